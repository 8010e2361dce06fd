#!/usr/bin/env node
// `node bench/sockets.mjs [--seconds=10] [--connections=50] [--rounds=2]` — where the bench's socket
// errors come from (issue 9 item 13; BENCHMARKS.md "Socket errors under load"). The bench's
// invite workload (1 new address per request) on the full seeded data, against Roster behind the
// bench wrapper (bench/wrapped, which can say which isolate served a request), three ways:
//   autocannon    keep-alive, pipelining 1: exactly how `npm run bench` loads
//   keep-alive    node:http with a keep-alive agent: every socket's life is recorded (how many
//                 requests it carried, whether it was reset, after how long idle)
//   no keep-alive node:http, a new connection per request (`Connection: close`)
// For each: socket errors by code, statuses, the isolates that served the requests and how many
// each served, workerd's resident memory sampled every 250 ms, and workerd's own log at debug
// level (--verbose) scanned for restarts, uncaught errors and limits. Writes
// bench/results/sockets.json.
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { definitions } from "./lib/endpoints.mjs";
import { load } from "./lib/load.mjs";
import { heapAfterGc, inspectorTargets, workerdPids } from "./lib/profile.mjs";
import { applyMigrations, readMigrations, runStatements, SIZES, seedStatements } from "./lib/seed.mjs";
import { createSigner } from "./lib/tokens.mjs";
import { buildBundle, ROOT, readRootConfig } from "./lib/workers.mjs";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    rounds: { type: "string", default: "2" },
    // Which bench endpoint (bench/lib/endpoints.mjs key) and how many distinct users it rotates
    // over; which ways to load (comma-separated).
    workload: { type: "string", default: "invite_1" },
    readers: { type: "string", default: "2000" },
    how: { type: "string", default: "autocannon,keep-alive,no keep-alive" },
    // The control: the baseline Worker (bench/baseline: token check + one SELECT), workload `select`.
    worker: { type: "string", default: "wrapped" },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const ROUNDS = Number(args.rounds);
const log = (line) => process.stdout.write(`${line}\n`);

function rssMb() {
  let kb = 0;
  for (const pid of workerdPids()) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return Math.round(kb / 1024);
}

/** Samples workerd's RSS until stopped: { start, max, end } in MB. */
function memoryWatch() {
  const samples = [rssMb()];
  const timer = setInterval(() => samples.push(rssMb()), 250);
  return () => {
    clearInterval(timer);
    samples.push(rssMb());
    return { start_mb: samples[0], max_mb: Math.max(...samples), end_mb: samples.at(-1), samples: samples.length };
  };
}

/** `connections` loops of requests from `next()` over node:http for `seconds`. */
async function nodeLoad({ url, keepAlive, next, authorization, seconds, connections }) {
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: connections }) : false;
  const errors = {};
  const statuses = {};
  const isolates = new Map();
  const sockets = { opened: 0, reused_requests: 0, reset_after_reuse: 0, reset_on_first: 0, idle_ms_before_reset: [] };
  const deadline = Date.now() + seconds * 1000;
  let requests = 0;
  const one = (r) =>
    new Promise((resolve) => {
      const body = r.body;
      const headers = {
        ...r.headers,
        Authorization: authorization(r.userId),
        "x-bench-isolate": "?",
        ...(body === undefined ? {} : { "Content-Length": Buffer.byteLength(body) }),
        ...(keepAlive ? {} : { Connection: "close" }),
      };
      let socket = null;
      const req = http.request(new URL(r.path, url), { method: r.method, headers, agent }, (res) => {
        res.resume();
        res.on("end", () => {
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          const [id, count] = String(res.headers["x-bench-isolate"] ?? "? 0").split(" ");
          isolates.set(id, Math.max(isolates.get(id) ?? 0, Number(count)));
          if (socket) socket.benchIdleSince = Date.now();
          resolve();
        });
      });
      req.on("socket", (s) => {
        socket = s;
        if (socket.benchServed === undefined) {
          socket.benchServed = 0;
          sockets.opened += 1;
        } else sockets.reused_requests += 1;
        socket.benchServed += 1;
      });
      req.on("error", (error) => {
        const key = error.code ?? error.message;
        errors[key] = (errors[key] ?? 0) + 1;
        if (socket?.benchServed > 1) {
          sockets.reset_after_reuse += 1;
          if (socket.benchIdleSince) sockets.idle_ms_before_reset.push(Date.now() - socket.benchIdleSince);
        } else sockets.reset_on_first += 1;
        resolve();
      });
      req.end(body);
    });
  const loop = async () => {
    while (Date.now() < deadline) {
      const r = next();
      if (r === null) return;
      requests += 1;
      await one(r);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: connections }, loop));
  if (agent) agent.destroy();
  return {
    requests,
    rps: Math.round((requests / ((Date.now() - started) / 1000)) * 10) / 10,
    statuses,
    errors,
    sockets,
    isolates: Object.fromEntries(isolates),
  };
}

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "roster-sockets-"));
  const logLines = [];
  const { Log, LogLevel, Miniflare } = await import("miniflare");
  let mf;
  try {
    const script = await buildBundle(path.join(ROOT, `bench/${args.worker}/wrangler.toml`), path.join(tmp, "worker"));
    const signer = await createSigner();
    const rootConfig = await readRootConfig();
    mf = new Miniflare({
      workers: [
        {
          name: "roster",
          modules: true,
          scriptPath: script,
          modulesRoot: path.dirname(script),
          compatibilityDate: rootConfig.compatibilityDate,
          compatibilityFlags: rootConfig.compatibilityFlags,
          d1Databases: { DB: "roster-sockets" },
          queueProducers: { EMAIL_QUEUE: "roster-email", BENCH_QUEUE: "bench-baseline" },
          bindings: { ...rootConfig.vars, CLERK_JWT_KEY: signer.publicKeyPem },
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        },
      ],
      host: "127.0.0.1",
      port: 0,
      d1Persist: false,
      cf: false,
      // workerd's own log at debug level (--verbose), and Miniflare's.
      verbose: true,
      inspectorPort: 0,
      log: new Log(LogLevel.DEBUG),
      handleRuntimeStdio(stdout, stderr) {
        for (const stream of [stdout, stderr]) {
          stream.on("data", (chunk) => {
            const at = Date.now();
            for (const line of String(chunk).split("\n"))
              if (line && !line.startsWith("stack:")) logLines.push({ at, line });
          });
        }
      },
    });
    await mf.ready;
    const url = await mf.unsafeGetDirectURL("roster");
    const db = await mf.getD1Database("DB", "roster");
    await applyMigrations(db, await readMigrations());
    await runStatements(db, seedStatements(SIZES.full, Date.now()));
    log(`workerd ${workerdPids().join(",")} on ${url.origin}, seeded; ${rssMb()} MB resident`);
    const [target] = await inspectorTargets(mf, /roster/);
    const heap = () => (target ? heapAfterGc(target) : null);

    const runs = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const how of args.how.split(",")) {
        const { endpoints, baselines } = definitions({
          readers: Number(args.readers),
          runTag: `s${round}${how.length}${Date.now().toString(36)}`,
        });
        const invite = [...endpoints, ...baselines].find((e) => e.key === args.workload);
        const fixtures = await invite.prepare(db);
        await signer.sign(new Set(fixtures.users));
        const heapBefore = await heap();
        const startedAt = Date.now();
        const stop = memoryWatch();
        let result;
        if (how === "autocannon") {
          const r = await load({
            url,
            connections: CONNECTIONS,
            seconds: SECONDS,
            next: fixtures.next,
            authorization: signer.authorization,
          });
          result = {
            requests: r.requests,
            rps: r.rps,
            statuses: r.statusCodes,
            errors: r.errorSamples,
            socket_errors: r.errors + r.timeouts,
          };
        } else {
          result = await nodeLoad({
            url,
            keepAlive: how === "keep-alive",
            next: fixtures.next,
            authorization: signer.authorization,
            seconds: SECONDS,
            connections: CONNECTIONS,
          });
          result.socket_errors = Object.values(result.errors).reduce((a, b) => a + b, 0);
        }
        result.memory = stop();
        const endedAt = Date.now();
        // Let workerd's log catch up, then take what it printed during the run (and 1 s after).
        await new Promise((r) => setTimeout(r, 1000));
        const heapAfter = await heap();
        result.heap = { before: heapBefore, after: heapAfter };
        if (heapBefore && heapAfter) {
          result.heap.kb_per_request =
            Math.round((((heapAfter.used_mb - heapBefore.used_mb) * 1024) / Math.max(result.requests, 1)) * 100) / 100;
        }
        const runLog = logLines.filter((l) => l.at >= startedAt && l.at <= endedAt + 1000).map((l) => l.line);
        const kinds = {};
        for (const line of runLog) {
          const kind = line
            .replace(/^workerd\/[^ ]+ /, "")
            .replace(/fd, |\d+/g, "")
            .slice(0, 140);
          kinds[kind] = (kinds[kind] ?? 0) + 1;
        }
        result.log = {
          lines: runLog.length,
          kinds,
          // What an isolate restart, an uncaught error in our code or a resource limit would print.
          suspicious: runLog
            .filter((l) => /restart|exceeded|memory|limit|overloaded|terminat|crash|Error:/i.test(l))
            .slice(0, 20),
        };
        const share = ((100 * result.socket_errors) / Math.max(result.requests, 1)).toFixed(2);
        log(
          `round ${round + 1}, ${args.workload}, ${how}: ${result.requests} requests, ${result.rps} rps, ${result.socket_errors} socket errors (${share} %) ` +
            `${JSON.stringify(result.errors)}; statuses ${JSON.stringify(result.statuses)}; isolates ${JSON.stringify(result.isolates ?? "n/a")}; ` +
            `sockets ${JSON.stringify(result.sockets ? { ...result.sockets, idle_ms_before_reset: result.sockets.idle_ms_before_reset.slice(0, 10) } : "n/a")}; ` +
            `workerd RSS ${result.memory.start_mb}→${result.memory.max_mb} (max)→${result.memory.end_mb} MB; ` +
            `heap after GC ${JSON.stringify(result.heap)}; ` +
            `${result.log.lines} log lines ${JSON.stringify(result.log.kinds)}, suspicious: ${JSON.stringify(result.log.suspicious.slice(0, 5))}`,
        );
        runs.push({ round: round + 1, how, ...result });
      }
    }
    await mkdir(path.join(ROOT, "bench/results"), { recursive: true });
    const out = {
      date: new Date().toISOString(),
      seconds: SECONDS,
      connections: CONNECTIONS,
      workload: args.workload,
      readers: Number(args.readers),
      load_average_before: os.loadavg()[0],
      workerd: JSON.parse(await readFile(path.join(ROOT, "node_modules/workerd/package.json"), "utf8")).version,
      runs,
      log_lines_total: logLines.length,
    };
    await writeFile(
      path.join(ROOT, `bench/results/sockets-${args.workload}.json`),
      `${JSON.stringify(out, null, 2)}\n`,
    );
    log(`wrote bench/results/sockets-${args.workload}.json`);
  } finally {
    await mf?.dispose().catch(() => {});
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
