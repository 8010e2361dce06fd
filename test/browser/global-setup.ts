import { type ChildProcess, execFile, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";

/**
 * The browser suite's server: `wrangler dev` on a free port with a fresh persistence directory,
 * the real migrations applied, and a test configuration (a fresh RSA key pair and webhook
 * secret, console email, one allowed CORS origin). The Worker's stdout goes to a log file: the
 * console email provider prints each invite email there, and the tests read invite links from it,
 * exactly as a developer reads them after `npm start`.
 */
declare module "vitest" {
  export interface ProvidedContext {
    apiUrl: string;
    /** An origin listed in CORS_ORIGINS (its port is free for a test server). */
    allowedOrigin: string;
    /** An origin not listed in CORS_ORIGINS. */
    otherOrigin: string;
    privateKey: string;
    webhookSecret: string;
    logFile: string;
    persistDir: string;
  }
}

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const WRANGLER_ENV = {
  ...process.env,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** A dotenv file: values double-quoted, newlines escaped (dotenv expands \n inside double quotes). */
function envFile(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}="${v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"')}"`)
    .join("\n");
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not become healthy within ${timeoutMs} ms`);
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "roster-browser-"));
  const persistDir = join(dir, "state");
  const logFile = join(dir, "wrangler.log");
  const keys = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const webhookSecret = `whsec_${randomBytes(24).toString("base64")}`;
  const [port, inspectorPort, allowedPort, otherPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const apiUrl = `http://127.0.0.1:${port}`;
  const allowedOrigin = `http://127.0.0.1:${allowedPort}`;
  const otherOrigin = `http://127.0.0.1:${otherPort}`;

  // Every variable the pages depend on is set explicitly: with --env-file, wrangler reads neither
  // the developer's .dev.vars nor .env, so the suite is hermetic.
  const envPath = join(dir, "test.env");
  writeFileSync(
    envPath,
    envFile({
      CLERK_JWT_KEY: keys.publicKey,
      CLERK_WEBHOOK_SIGNING_SECRET: webhookSecret,
      CLERK_PUBLISHABLE_KEY: "",
      CLERK_SECRET_KEY: "",
      CLERK_AUTHORIZED_PARTIES: "",
      CORS_ORIGINS: allowedOrigin,
      APP_URL: apiUrl,
      INVITE_LINK_TEMPLATE: "",
      EMAIL_PROVIDER: "console",
      EMAIL_RETRY_BASE_SECONDS: "1",
      RATE_LIMIT_TOKEN_PER_MINUTE: "1000",
      // The /join suite: any user may send platform invitations; the cap is far above what the
      // suite creates, and join-page.test.ts fills it with placeholder users to test "full".
      PLATFORM_INVITES_PER_USER: "5",
      SIGNUP_CAP: "3000",
      PRODUCT_NAME: "Acme Beta",
    }),
  );

  // The Worker is bundled once, up front, and served without watching the source tree: edits made
  // while the suite runs (by anyone) cannot reload it mid-test and drop queued emails.
  const dist = join(dir, "dist");
  await Promise.all([
    run(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], {
      cwd: ROOT,
      env: WRANGLER_ENV,
    }),
    run(WRANGLER, ["deploy", "--dry-run", "--outdir", dist], { cwd: ROOT, env: WRANGLER_ENV }),
  ]);

  const log = createWriteStream(logFile);
  const child = spawn(
    WRANGLER,
    [
      "dev",
      join(dist, "index.js"),
      "--no-bundle",
      "--config",
      join(ROOT, "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistDir,
      "--env-file",
      envPath,
      "--show-interactive-dev-session=false",
      "--log-level",
      "log",
    ],
    { cwd: ROOT, env: WRANGLER_ENV, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);

  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once("exit", r));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    log.end();
    // Kept beside the JSON reports: when a browser test fails, the Worker's side of the story.
    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    copyFileSync(logFile, join(ROOT, "test-results", "browser-wrangler.log"));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitForHealth(apiUrl, child, 60_000);
  } catch (error) {
    await new Promise((r) => setTimeout(r, 200));
    const tail = readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n");
    await stop();
    throw new Error(`${(error as Error).message}\n--- wrangler dev output ---\n${tail}`);
  }

  project.provide("apiUrl", apiUrl);
  project.provide("allowedOrigin", allowedOrigin);
  project.provide("otherOrigin", otherOrigin);
  project.provide("privateKey", keys.privateKey);
  project.provide("webhookSecret", webhookSecret);
  project.provide("logFile", logFile);
  project.provide("persistDir", persistDir);
  return stop;
}
