#!/usr/bin/env node
// `npm start`: the newcomer's one command. On first run it creates .dev.vars (from
// .dev.vars.example, with a fresh development key pair and webhook secret), then applies the local
// D1 migrations and serves the Worker with `wrangler dev --test-scheduled` on PORT (8787).
// Non-interactive, so it runs the same in a terminal, a script or CI. Ctrl-C stops workerd too.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import {
  DEV_KEYS,
  DEV_VARS,
  DEV_VARS_EXAMPLE,
  DevError,
  newDevIdentity,
  parseDotenv,
  ROOT,
  samePublicKey,
  setDotenvValues,
  WRANGLER,
  writePrivateFile,
} from "./lib/dev-env.mjs";

const port = process.env.PORT ?? "8787";
const childEnv = {
  ...process.env,
  CI: process.env.CI ?? "true",
  WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? "false",
};

function log(message) {
  console.log(`[start] ${message}`);
}

/** Creates .dev.vars and .dev-keys.json on first run; never touches an existing .dev.vars. */
function ensureDevVars() {
  if (existsSync(DEV_VARS)) {
    log(".dev.vars exists: using it as is.");
    if (!existsSync(DEV_KEYS)) {
      log("note: no .dev-keys.json, so `npm run dev:user` cannot sign session tokens for this .dev.vars.");
    }
    return;
  }
  if (!existsSync(DEV_VARS_EXAMPLE)) throw new DevError(".dev.vars.example is missing: is this a Roster checkout?");
  const identity = newDevIdentity();
  const values = {
    CLERK_JWT_KEY: identity.publicKey,
    CLERK_WEBHOOK_SIGNING_SECRET: identity.webhookSecret,
    ...(port !== "8787" ? { APP_URL: `http://localhost:${port}` } : {}),
  };
  const text = setDotenvValues(readFileSync(DEV_VARS_EXAMPLE, "utf8"), values);
  // Read it back with wrangler's grammar before writing: a key that does not survive the round
  // trip would make every session token fail with an unhelpful 401.
  const parsed = parseDotenv(text);
  if (
    !samePublicKey(parsed.CLERK_JWT_KEY ?? "", identity.publicKey) ||
    parsed.CLERK_WEBHOOK_SIGNING_SECRET !== identity.webhookSecret
  ) {
    throw new DevError("The generated .dev.vars does not read back correctly; nothing was written.");
  }
  // The private key first: .dev.vars without it would be a pair nobody can sign for.
  writePrivateFile(
    DEV_KEYS,
    `${JSON.stringify({ publicKey: identity.publicKey, privateKey: identity.privateKey, createdAt: new Date().toISOString() }, null, 2)}\n`,
    { overwrite: true },
  );
  writePrivateFile(DEV_VARS, text, { overwrite: false });
  log("created .dev.vars with a fresh development key pair and webhook secret (private key in .dev-keys.json).");
}

function applyMigrations() {
  log("applying D1 migrations to the local database…");
  const result = spawnSync(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local"], {
    cwd: ROOT,
    env: childEnv,
    stdio: "inherit",
  });
  if (result.status !== 0) throw new DevError("Applying the local migrations failed (see above).");
}

function serve() {
  log(`serving on http://localhost:${port} (Ctrl-C to stop)`);
  const child = spawn(
    process.execPath,
    [WRANGLER, "dev", "--test-scheduled", "--port", port, "--show-interactive-dev-session=false"],
    { cwd: ROOT, env: childEnv, stdio: "inherit" },
  );
  // Forward termination signals: without this, stopping `npm start` (e.g. a process manager's
  // SIGTERM to this process only) would leave wrangler and workerd running on the port.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on("exit", (code) => {
    // Stopped by a signal (Ctrl-C) is a normal end, not a failure.
    process.exitCode = code ?? 0;
  });
  child.on("error", (error) => {
    console.error(`[start] could not run wrangler: ${error.message}. Did you run \`npm ci\`?`);
    process.exitCode = 1;
  });
}

try {
  if (!existsSync(WRANGLER)) throw new DevError("wrangler is not installed: run `npm ci` first.");
  ensureDevVars();
  applyMigrations();
  serve();
} catch (error) {
  if (error instanceof DevError) {
    console.error(`[start] ${error.message}`);
    process.exit(1);
  }
  throw error;
}
