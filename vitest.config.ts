import { generateKeyPairSync, randomBytes } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// A fresh signing key pair and webhook secret per run: the Worker verifies with the public key
// exactly as it verifies Clerk's, and the tests sign with the private key.
const keys = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});

export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      main: "./workers/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // A second database that starts on the legacy schema (test/legacy-migration.test.ts).
        d1Databases: { DB: "roster-test", LEGACY_DB: "roster-legacy-test" },
        // wrangler.toml's EMAIL, plus a binding locked to one sender and one recipient (as
        // allowed_sender_addresses / allowed_destination_addresses lock one in production): the
        // Cloudflare provider tests send through miniflare's own simulation of both.
        email: {
          send_email: [
            { name: "EMAIL" },
            {
              name: "EMAIL_LOCKED",
              allowed_sender_addresses: ["no-reply@localhost"],
              allowed_destination_addresses: ["cf-allowed@example.com"],
            },
          ],
        },
        bindings: {
          CLERK_JWT_KEY: keys.publicKey,
          CLERK_WEBHOOK_SIGNING_SECRET: `whsec_${randomBytes(24).toString("base64")}`,
          TEST_JWT_PRIVATE_KEY: keys.privateKey,
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/browser/**"],
    setupFiles: ["./test/setup.ts"],
    // A real SMTP sink in Node for the email tests (its ports reach the tests through inject()).
    globalSetup: ["./test/global-setup.ts"],
  },
});
