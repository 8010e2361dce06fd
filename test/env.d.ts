import type { D1Migration } from "@cloudflare/vitest-pool-workers";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Test only: the private half of CLERK_JWT_KEY, to sign session tokens. */
      TEST_JWT_PRIVATE_KEY: string;
      TEST_MIGRATIONS: D1Migration[];
      /** A database that starts on the legacy schema, for the migration test. */
      LEGACY_DB: D1Database;
      /** A send_email binding locked to no-reply@localhost -> cf-allowed@example.com (vitest.config.ts). */
      EMAIL_LOCKED: SendEmail;
    }
  }
}
