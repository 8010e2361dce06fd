// Builds the real Worker bundle and the bench Workers with `wrangler deploy --dry-run`, and runs
// them on Miniflare directly (no `wrangler dev`): one workerd process, one local D1 shared by all.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { Log, LogLevel, Miniflare } from "miniflare";

const run = promisify(execFile);

export const ROOT = path.resolve(import.meta.dirname, "../..");
/** The D1 database every bench Worker binds as DB (one Durable Object, so one SQLite file). */
const DB_ID = "roster-bench";
/** The peer (better-auth, bench/peer) has its own database, with its own schema. */
const PEER_DB_ID = "roster-bench-peer";
/** The request header bench/lib/d1-delay.ts reads: the simulated D1 hop of that request, in ms. */
export const LATENCY_HEADER_NAME = "x-bench-d1-latency";
/** The expiry job runs against its own database, so the purge does not disturb the endpoint data. */
const PURGE_DB_ID = "roster-bench-purge";

const WRANGLER_ENV = {
  ...process.env,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
};

/** `wrangler deploy --dry-run --outdir`: the exact bundle `wrangler deploy` would upload. */
export async function buildBundle(configPath, outdir) {
  const wrangler = path.join(ROOT, "node_modules/.bin/wrangler");
  try {
    await run(wrangler, ["deploy", "--dry-run", "--config", configPath, "--outdir", outdir], {
      cwd: ROOT,
      env: WRANGLER_ENV,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    throw new Error(`wrangler build of ${path.relative(ROOT, configPath)} failed:\n${error.stderr || error.stdout}`);
  }
  return path.join(outdir, "index.js");
}

/** The root wrangler.toml as wrangler reads it: vars, compatibility date and flags. */
export async function readRootConfig() {
  const { unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: path.join(ROOT, "wrangler.toml") }, { hideWarnings: true });
  return {
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    vars: Object.fromEntries(Object.entries(config.vars ?? {}).map(([k, v]) => [k, String(v)])),
  };
}

/**
 * Starts workerd with:
 *  - `roster`          the real bundle, production vars, no counting (throughput is measured here)
 *  - `roster-counted`  the same bundle with BENCH_COUNT_D1 = "1" (D1 round trips are read here)
 *  - `baseline`        bench/baseline (constant / one SELECT / one INSERT)
 *  - `purge`           bench/purge (the expiry job, on its own database), when built
 *  - `roster-events`, `roster-events-counted`  the same bundle with EVENTS_WEBHOOK_URL set (to
 *    `eventsReceiverUrl`, a local receiver the harness runs) and the events queue consumed by the
 *    same Worker, so each event is really POSTed, signed, while the endpoint is loaded: the cost
 *    of the event path, against the same endpoint on `roster`
 *  - `wrapped`, `wrapped-counted`   Roster behind the bench's D1 latency wrapper (bench/wrapped),
 *                      and the peer: `peer-default`, `peer-joins` and their counting twins, on the
 *                      peer's own database — when the side-by-side runs (`sideBySide`)
 * The email queue has producers and no consumer: Miniflare's broker then accepts each send and
 * drops it, so the API pays for the send (a call to the broker) and delivery — on Cloudflare a
 * separate invocation — costs nothing here. (With a consumer the local broker arms a timer per
 * message and starts failing sends at 10,000 pending: a limit of Miniflare, not of Queues.)
 * Each HTTP Worker gets its own socket on 127.0.0.1 (unsafeDirectSockets), so all are reached the
 * same way, without Miniflare's entry Worker in the path.
 */
export async function startWorkers({
  rosterScript,
  baselineScript,
  purgeScript,
  sideBySide,
  rootConfig,
  bindings,
  verbose,
  inspector,
  eventsReceiverUrl,
}) {
  const common = {
    modules: true,
    compatibilityDate: rootConfig.compatibilityDate,
    compatibilityFlags: rootConfig.compatibilityFlags,
  };
  const direct = [{ host: "127.0.0.1", port: 0 }];
  const rosterBindings = { ...rootConfig.vars, ...bindings };
  const roster = (name, extra) => ({
    ...common,
    name,
    scriptPath: rosterScript,
    modulesRoot: path.dirname(rosterScript),
    d1Databases: { DB: DB_ID },
    queueProducers: { EMAIL_QUEUE: "roster-email", EVENTS_QUEUE: "roster-events" },
    bindings: { ...rosterBindings, ...extra },
    unsafeDirectSockets: direct,
  });
  const eventsOn = {
    EVENTS_WEBHOOK_URL: eventsReceiverUrl,
    EVENTS_WEBHOOK_SECRET: "whsec_YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldA==",
  };
  const workers = [
    roster("roster", {}),
    roster("roster-counted", { BENCH_COUNT_D1: "1" }),
    {
      ...roster("roster-events", eventsOn),
      queueConsumers: { "roster-events": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 6 } },
    },
    roster("roster-events-counted", { ...eventsOn, BENCH_COUNT_D1: "1" }),
    {
      ...common,
      name: "baseline",
      scriptPath: baselineScript,
      modulesRoot: path.dirname(baselineScript),
      d1Databases: { DB: DB_ID },
      bindings: { CLERK_JWT_KEY: bindings.CLERK_JWT_KEY },
      queueProducers: { BENCH_QUEUE: "bench-baseline" },
      unsafeDirectSockets: direct,
    },
  ];
  if (purgeScript) {
    workers.push({
      ...common,
      name: "purge",
      scriptPath: purgeScript,
      modulesRoot: path.dirname(purgeScript),
      d1Databases: { DB: PURGE_DB_ID },
      bindings: rosterBindings,
      unsafeDirectSockets: direct,
    });
  }
  if (sideBySide) {
    const wrapped = (name, extra) => ({
      ...roster(name, extra),
      scriptPath: sideBySide.wrappedScript,
      modulesRoot: path.dirname(sideBySide.wrappedScript),
    });
    workers.push(wrapped("wrapped", {}), wrapped("wrapped-counted", { BENCH_COUNT_D1: "1" }));
    // Listed by hand: better-auth's bundle holds dynamic imports (of drivers it does not use
    // here) that Miniflare's module walker refuses.
    const peerScript = await readFile(sideBySide.peerScript, "utf8");
    const peer = (name, extra) => ({
      ...common,
      modules: [{ type: "ESModule", path: sideBySide.peerScript, contents: peerScript }],
      modulesRoot: path.dirname(sideBySide.peerScript),
      name,
      d1Databases: { DB: PEER_DB_ID },
      queueProducers: { INVITE_QUEUE: "peer-invites" },
      bindings: { BA_SECRET: sideBySide.secret, ...extra },
      unsafeDirectSockets: direct,
    });
    workers.push(
      peer("peer-default", { BA_JOINS: "0" }),
      peer("peer-joins", { BA_JOINS: "1" }),
      peer("peer-counted-default", { BA_JOINS: "0", BA_COUNT_D1: "1" }),
      peer("peer-counted-joins", { BA_JOINS: "1", BA_COUNT_D1: "1" }),
    );
  }
  const mf = new Miniflare({
    workers,
    host: "127.0.0.1",
    port: 0,
    d1Persist: false,
    // No network: the placeholder request.cf instead of fetching Cloudflare's.
    cf: false,
    // --profile: V8's inspector on a free port (CPU profiles of each isolate).
    ...(inspector ? { inspectorPort: 0 } : {}),
    log: new Log(verbose ? LogLevel.INFO : LogLevel.WARN),
    // The Worker logs to stdout; the bench keeps the terminal for its table unless --verbose.
    handleRuntimeStdio(stdout, stderr) {
      if (verbose) {
        stdout.pipe(process.stdout);
        stderr.pipe(process.stderr);
      } else {
        stdout.resume();
        stderr.on("data", (chunk) => {
          const text = String(chunk);
          if (/error|uncaught/i.test(text)) process.stderr.write(text);
        });
      }
    },
  });
  await mf.ready;
  const urls = {
    roster: await mf.unsafeGetDirectURL("roster"),
    counted: await mf.unsafeGetDirectURL("roster-counted"),
    events: await mf.unsafeGetDirectURL("roster-events"),
    eventsCounted: await mf.unsafeGetDirectURL("roster-events-counted"),
    baseline: await mf.unsafeGetDirectURL("baseline"),
    purge: purgeScript ? await mf.unsafeGetDirectURL("purge") : null,
  };
  if (sideBySide) {
    Object.assign(urls, {
      wrapped: await mf.unsafeGetDirectURL("wrapped"),
      wrappedCounted: await mf.unsafeGetDirectURL("wrapped-counted"),
      peerDefault: await mf.unsafeGetDirectURL("peer-default"),
      peerJoins: await mf.unsafeGetDirectURL("peer-joins"),
      peerCountedDefault: await mf.unsafeGetDirectURL("peer-counted-default"),
      peerCountedJoins: await mf.unsafeGetDirectURL("peer-counted-joins"),
    });
  }
  for (const [name, url] of Object.entries(urls)) {
    if (url !== null && url.hostname !== "127.0.0.1") throw new Error(`${name} is not on 127.0.0.1: ${url}`);
  }
  return {
    mf,
    urls,
    db: await mf.getD1Database("DB", "roster"),
    purgeDb: purgeScript ? await mf.getD1Database("DB", "purge") : null,
    peerDb: sideBySide ? await mf.getD1Database("DB", "peer-default") : null,
  };
}

/** The workerd version Miniflare runs (the `workerd` package it depends on). */
export async function workerdVersion() {
  try {
    const pkg = JSON.parse(await readFile(path.join(ROOT, "node_modules/workerd/package.json"), "utf8"));
    return pkg.version;
  } catch {
    return "unknown";
  }
}
