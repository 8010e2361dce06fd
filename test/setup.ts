import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// The real migrations, as `wrangler d1 migrations apply` runs them. Idempotent: applied ones are
// recorded in d1_migrations and skipped.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
