#!/usr/bin/env node
// `npm run bench` — throughput, latency and D1 round trips of Roster's endpoints, each against a
// baseline Worker measured in the same run. See BENCHMARKS.md.
//
//   npm run bench                  full run (~4 min on 2 cores): writes bench/results/latest.json
//                                  and the figures block of BENCHMARKS.md
//   npm run bench -- --smoke       CI: small data, ~1 s per endpoint; exits non-zero when any
//                                  endpoint answers non-2xx or the harness breaks; writes
//                                  bench/results/smoke.json (git-ignored)
//   npm run bench -- --only=me,accept   a subset (writes bench/results/partial.json)
//   --profile                      V8 CPU profiles of the Worker and of D1's object during each
//                                  measured run (bench/results/profiles/, git-ignored), top frames
//                                  printed; the figures of a profiled run are not comparable
//   --verbose                      the Worker's own log on the terminal
//   --render                       rewrite BENCHMARKS.md's figures from bench/results/latest.json
//   --only=peer / --only=latency   the side by side with better-auth (bench/peer) / the latency table
//   --d1-latency=MS[,MS…]          the simulated D1 hops of the latency table (default 0,10,40)
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { capacityLines, storagePerRow, writeCeilings } from "./lib/capacity.mjs";
import { definitions, OPERATOR } from "./lib/endpoints.mjs";
import { json, request } from "./lib/http.mjs";
import { load, probe, socketVerdict } from "./lib/load.mjs";
import { applyPeerSchema, PEER_SECRET, peerSeedStatements, peerTableCounts } from "./lib/peer.mjs";
import {
  cpuDelta,
  cpuSnapshot,
  inspectorTargets,
  saveProfile,
  startProfiles,
  summarizeProfile,
} from "./lib/profile.mjs";
import { buildPurgeWorker, runPurge } from "./lib/purge.mjs";
import { startReceiver } from "./lib/receiver.mjs";
import { benchmarksBlock, costModelLine, latencyLines, peerLines, purgeLines, terminalTable } from "./lib/report.mjs";
import { applyMigrations, readMigrations, runStatements, SIZES, seedStatements, tableCounts } from "./lib/seed.mjs";
import { runLatency, runSideBySide } from "./lib/sidebyside.mjs";
import { createSigner } from "./lib/tokens.mjs";
import { buildBundle, ROOT, readRootConfig, startWorkers, workerdVersion } from "./lib/workers.mjs";

const MODES = {
  // 2 cores: 10 endpoints+baselines × (2 s warm-up + 10 s) plus the baselines again at the end,
  // seeding and the purge stay well under 10 minutes.
  full: {
    connections: 50,
    seconds: 10,
    warmupSeconds: 2,
    calibrationSeconds: 4,
    probeCount: 100,
    readers: 2_000,
    purgeInvites: 100_000,
    // The side by side: 2 interleaved rounds × 3 sides × 5 workloads × (1 + 5 s) ≈ 3 min; the
    // latency table at 4 connections, so that p50 is a request's own time, not a queue.
    peer: {
      rounds: 2,
      seconds: 5,
      warmupSeconds: 1,
      latencies: [0, 10, 40],
      latencyConnections: 4,
      latencyWarmupSeconds: 1,
      latencySeconds: 4,
    },
  },
  smoke: {
    connections: 4,
    seconds: 1,
    warmupSeconds: 0,
    calibrationSeconds: 0.5,
    probeCount: 3,
    readers: 100,
    purgeInvites: 2_000,
    // No load on the peer: every side's probe (2xx, response check, round trips) for every
    // workload, and one timed request per side at a 10 ms hop (it must take ≥ trips × 10 ms).
    peer: { rounds: 0, seconds: 0, warmupSeconds: 0, latencies: [10], latencyProbeOnly: true },
  },
};
const TARGETS = { readRatio: 0.8, writeRatio: 0.6, maxRoundTrips: 3 };

const { values: args } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    only: { type: "string" },
    verbose: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    render: { type: "boolean", default: false },
    "d1-latency": { type: "string" },
  },
});
const mode = args.smoke ? "smoke" : "full";
const cfg = MODES[mode];
const only = args.only ? new Set(args.only.split(",").map((s) => s.trim())) : null;
const latencies = args["d1-latency"]
  ? args["d1-latency"].split(",").map((v) => {
      const ms = Number(v);
      if (!Number.isFinite(ms) || ms < 0 || ms > 1000) throw new Error(`--d1-latency: ${v} is not 0–1000 ms`);
      return ms;
    })
  : cfg.peer.latencies;
const wantPeer = only === null || only.has("peer");
const wantLatency = only === null || only.has("latency") || args["d1-latency"] !== undefined;
const sideBySide = wantPeer || wantLatency;

const log = (line) => process.stdout.write(`${line}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

async function main() {
  const started = Date.now();
  const loadBefore = os.loadavg()[0];
  const tmp = await mkdtemp(path.join(os.tmpdir(), "roster-bench-"));
  const failures = [];
  let workers = null;
  let receiver = null;
  try {
    log(`roster bench (${mode}) — building bundles…`);
    const [rosterScript, baselineScript, purgeScript, wrappedScript, peerScript] = await Promise.all([
      buildBundle(path.join(ROOT, "wrangler.toml"), path.join(tmp, "roster")),
      buildBundle(path.join(ROOT, "bench/baseline/wrangler.toml"), path.join(tmp, "baseline")),
      buildPurgeWorker(tmp),
      sideBySide ? buildBundle(path.join(ROOT, "bench/wrapped/wrangler.toml"), path.join(tmp, "wrapped")) : null,
      sideBySide ? buildBundle(path.join(ROOT, "bench/peer/wrangler.toml"), path.join(tmp, "peer")) : null,
    ]);
    const signer = await createSigner();
    receiver = await startReceiver();
    const rootConfig = await readRootConfig();
    workers = await startWorkers({
      rosterScript,
      baselineScript,
      purgeScript: purgeScript.script,
      sideBySide: sideBySide ? { wrappedScript, peerScript, secret: PEER_SECRET } : null,
      rootConfig,
      bindings: { CLERK_JWT_KEY: signer.publicKeyPem, PLATFORM_ADMIN_USER_IDS: OPERATOR },
      verbose: args.verbose,
      inspector: args.profile,
      eventsReceiverUrl: receiver.url,
    });
    const { urls, db } = workers;

    // Seed.
    const now = Date.now();
    const seedStart = Date.now();
    await applyMigrations(db, await readMigrations());
    const seedGrowth = await runStatements(db, seedStatements(SIZES[mode], now));
    const seed = { ms: Date.now() - seedStart, rows: await tableCounts(db) };
    log(`seeded in ${seconds(seed.ms)}: ${JSON.stringify(seed.rows)}`);
    if (sideBySide) {
      const peerStart = Date.now();
      const statements = await applyPeerSchema(workers.peerDb, urls.peerDefault);
      await runStatements(workers.peerDb, peerSeedStatements(SIZES[mode], now));
      seed.peer = {
        ms: Date.now() - peerStart,
        schema_statements: statements,
        rows: await peerTableCounts(workers.peerDb),
      };
      log(`peer seeded in ${seconds(seed.peer.ms)}: ${JSON.stringify(seed.peer.rows)}`);
    }

    // Which endpoints exist: the OpenAPI document is generated from the route table.
    const openapi = json((await request(new URL("/openapi.json", urls.roster))).text) ?? {};
    const exists = ([method, route]) => openapi.paths?.[route]?.[method] !== undefined;

    const runTag = Date.now().toString(36);
    const { baselines, calibration, endpoints } = definitions({
      readers: cfg.readers,
      runTag,
      usersTotal: SIZES[mode].users,
    });
    const selected = (e) => only === null || only.has(e.key);

    /** Probe (counted Worker) -> warm-up -> measured run, for one endpoint or baseline. */
    const measure = async (def, url, countedUrl, runSeconds = cfg.seconds) => {
      const fixtures = await def.prepare(db);
      await signer.sign(new Set(fixtures.users));
      const authorization = signer.authorization;
      let d1 = null;
      const checked = await probe({
        url: countedUrl ?? url,
        count: cfg.probeCount,
        next: fixtures.next,
        authorization,
        validate: def.validate,
      });
      failures.push(...checked.failures.map((f) => `${def.name}: ${f}`));
      if (countedUrl) {
        d1 = {
          trips: checked.trips,
          statements: checked.statements,
          writeTrips: checked.writeTrips,
          sqlMs: checked.sqlMsMean,
          sqlByStatement: checked.sqlByStatement,
        };
        if (checked.trips === null && checked.failures.length === 0) {
          failures.push(`${def.name}: no x-d1-round-trips header (is the counting hook in the router?)`);
        }
      }
      if (cfg.warmupSeconds > 0) {
        await load({
          url,
          connections: cfg.connections,
          seconds: cfg.warmupSeconds,
          next: fixtures.next,
          authorization,
        });
      }
      const stopProfiles = args.profile ? await startProfiling(def) : null;
      const cpuBefore = safeCpu();
      const result = await load({
        url,
        connections: cfg.connections,
        seconds: runSeconds,
        next: fixtures.next,
        authorization,
      });
      const cpuAfter = safeCpu();
      const cpu = cpuBefore && cpuAfter ? cpuDelta(cpuBefore, cpuAfter) : null;
      if (cpu) {
        // CPU per request is steadier than rps on a shared machine: it does not depend on who
        // else is using the cores.
        cpu.workerd_ms_per_request = Math.round((cpu.workerd_ms / Math.max(result.requests, 1)) * 1000) / 1000;
        result.cpu = cpu;
      }
      if (stopProfiles) await stopProfiles();
      // Every response must be 2xx; connection resets are tolerated up to 0.5 %, nothing else
      // (socketVerdict says why).
      const sockets = socketVerdict(result);
      result.socket = sockets;
      if (sockets.total > 0) {
        log(`  ! ${def.name}: ${sockets.total} socket errors/timeouts ${JSON.stringify(result.errorSamples)}`);
      }
      if (result.non2xx > 0 || sockets.fail) {
        failures.push(
          `${def.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts under load ` +
            `(status codes ${JSON.stringify(result.statusCodes)}; errors ${JSON.stringify(result.errorSamples)})`,
        );
      }
      if (result.exhausted) {
        log(`  ! ${def.name}: fixture pool ran out after ${result.duration_s} s (pool ${fixtures.poolSize})`);
      }
      log(
        `  ${def.name}: ${result.rps} rps, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms` +
          (d1?.trips ? `, D1 ${d1.trips.max} trips / ${d1.statements.max} statements` : ""),
      );
      return { result, d1, poolSize: fixtures.poolSize ?? null };
    };

    /**
     * Profiles every isolate of workerd (the Worker, D1's object running SQLite, the queue broker and
     * consumer…) and prints those that were busy: where the CPU of a request goes.
     */
    const startProfiling = async (def) => {
      const targets = await inspectorTargets(workers.mf, /./);
      const stop = await startProfiles(targets);
      return async () => {
        const dir = path.join(ROOT, "bench/results/profiles");
        await mkdir(dir, { recursive: true });
        for (const { target, profile } of await stop()) {
          const name = `${def.key}.${target.replace(/[^a-z0-9]+/gi, "_")}`;
          await saveProfile(path.join(dir, `${name}.cpuprofile`), profile);
          const summary = summarizeProfile(profile, 15);
          if (summary.busy_ms < Math.max(1, 0.02 * summary.total_ms)) continue;
          log(`    profile ${target} (bench/results/profiles/${name}.cpuprofile), inclusive:`);
          for (const row of summary.inclusive) log(`      ${String(row.share).padStart(5)} %  ${row.frame}`);
        }
      };
    };

    const baselineRuns = {};
    const runBaselines = async (pass) => {
      for (const b of baselines) {
        const { result } = await measure(b, urls.baseline, null);
        baselineRuns[b.key] = [...(baselineRuns[b.key] ?? []), { pass, ...result }];
      }
    };
    // --only=purge runs the expiry job alone; other keys skip it.
    const endpointsWanted = only === null || only.has("calibration") || endpoints.some(selected);
    const peerCfg = { ...cfg, ...cfg.peer };
    if (endpointsWanted) {
      if (mode === "full") {
        // The first seconds of load warm workerd's JIT and SQLite's page cache for everyone: spend
        // them on a discarded run, not on the first baseline.
        const select = baselines.find((b) => b.key === "select");
        const fixtures = await select.prepare(db);
        await signer.sign(new Set(fixtures.users));
        await load({
          url: urls.baseline,
          connections: cfg.connections,
          seconds: 2 * cfg.warmupSeconds,
          next: fixtures.next,
          authorization: signer.authorization,
        });
      }
      log("baselines…");
      await runBaselines("start");
    }

    log("endpoints…");
    const measured = [];
    const missing = [];
    for (const e of endpoints) {
      if (!selected(e)) continue;
      if (!exists(e.route)) {
        // Every benchmarked endpoint is on main: one that disappears (renamed, removed) fails the
        // run instead of silently dropping out of the figures.
        missing.push(e.name);
        failures.push(`${e.name}: not in /openapi.json`);
        continue;
      }
      const run = e.events
        ? await measure(e, urls.events, urls.eventsCounted)
        : await measure(e, urls.roster, urls.counted);
      const checks = e.after ? await e.after(db) : null;
      if (checks && e.events) checks.receiver_posts = receiver.received();
      if (checks) log(`    after: ${JSON.stringify(checks)}`);
      measured.push({ def: e, ...run, checks });
    }

    // The capacity model's inputs: bytes per row, with the audit and outbox rows the endpoints wrote.
    const storage = measured.length > 0 ? await storagePerRow(db, seedGrowth) : null;

    if (mode === "full" && endpointsWanted) {
      log("baselines again (drift)…");
      await runBaselines("end");
    }

    // The local cost model: workerd CPU per request for 1 or 3 round trips, batches of 1 or 10.
    let costModel = null;
    if (endpointsWanted && (only === null || only.has("calibration"))) {
      log("calibration…");
      const cpu = {};
      for (const c of calibration) {
        const { result } = await measure(c, urls.baseline, null, cfg.calibrationSeconds);
        cpu[c.key] = result.cpu?.workerd_ms_per_request ?? null;
      }
      const constCpu = baselineRuns.const?.[0]?.cpu?.workerd_ms_per_request ?? null;
      if (Object.values(cpu).every((v) => v !== null) && constCpu !== null) {
        const round = (v) => Math.round(v * 1000) / 1000;
        costModel = {
          cpu_ms_per_request: cpu,
          // Verify the token, route, answer: what every endpoint pays before its own work.
          auth_and_runtime_ms: round(constCpu),
          first_round_trip_ms: round(cpu.cal_t1_b1 - constCpu),
          extra_round_trip_ms: round((cpu.cal_t3_b1 - cpu.cal_t1_b1) / 2),
          extra_statement_in_batch_ms: round((cpu.cal_t1_b10 - cpu.cal_t1_b1) / 9),
          // Locally the queue's broker and consumer run in the same workerd process: this includes
          // delivering the message to the (acking) consumer, which on Cloudflare runs elsewhere.
          enqueue_one_ms: round(cpu.cal_queue_1 - constCpu),
          extra_message_ms: round((cpu.cal_queue_10 - cpu.cal_queue_1) / 9),
        };
        log(`  cost model: ${JSON.stringify(costModel)}`);
      }
    }

    let peer = null;
    if (wantPeer) {
      log("the peer, side by side…");
      const workloads = await runSideBySide({ workers, signer, cfg: peerCfg, runTag, log, failures });
      const pkg = JSON.parse(await readFile(path.join(ROOT, "node_modules/better-auth/package.json"), "utf8"));
      peer = {
        version: pkg.version,
        rounds: peerCfg.rounds,
        seconds: peerCfg.seconds,
        connections: peerCfg.connections,
        workloads,
      };
    }
    let latency = null;
    if (wantLatency) {
      log(`simulated D1 hop of ${latencies.join(", ")} ms…`);
      latency = {
        latencies,
        connections: peerCfg.latencyConnections,
        seconds: peerCfg.latencySeconds,
        workloads: await runLatency({ workers, signer, cfg: peerCfg, runTag, latencies, log, failures }),
      };
    }

    let purge = null;
    if (only === null || only.has("purge")) {
      log("expiry job…");
      purge = await runPurge({ workers, purgeScript, invites: cfg.purgeInvites, now });
      if (purge?.error) failures.push(`expiry job: ${purge.error}`);
      if (purge?.missing) failures.push(`expiry job: ${purge.missing}`);
      for (const line of purgeLines(purge)) log(`  ${line}`);
    }

    // Figures.
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const baselineFigures = Object.fromEntries(
      baselines.map((b) => {
        const runs = baselineRuns[b.key] ?? [{ rps: 0, p50_ms: 0, p99_ms: 0 }];
        return [
          b.key,
          {
            name: b.name,
            route: b.key,
            rps: Math.round(mean(runs.map((r) => r.rps)) * 10) / 10,
            p50_ms: mean(runs.map((r) => r.p50_ms)),
            p99_ms: mean(runs.map((r) => r.p99_ms)),
            workerd_cpu_ms_per_request:
              Math.round(mean(runs.map((r) => r.cpu?.workerd_ms_per_request ?? Number.NaN)) * 1000) / 1000,
            runs: runs.map(({ pass, rps, p50_ms, p99_ms }) => ({ pass, rps, p50_ms, p99_ms })),
          },
        ];
      }),
    );
    const drifts = Object.values(baselineRuns)
      .filter((runs) => runs.length > 1)
      .map((runs) => (Math.abs(runs[1].rps - runs[0].rps) / runs[0].rps) * 100);
    const byKey = Object.fromEntries(measured.map((m) => [m.def.key, m]));
    const endpointFigures = measured.map(({ def, result, d1, poolSize, checks }) => {
      const baselineRoute = def.kind === "read" ? "select" : "insert";
      const baseline = baselineFigures[baselineRoute].rps;
      const ratio = baseline > 0 ? Math.round((result.rps / baseline) * 100) / 100 : null;
      const ratioTarget = def.kind === "read" ? TARGETS.readRatio : TARGETS.writeRatio;
      const trips = d1?.trips?.max ?? null;
      const verdicts = [];
      if (ratio !== null && ratio < ratioTarget) verdicts.push(`ratio ${ratio} < ${ratioTarget}`);
      if (trips !== null && trips > TARGETS.maxRoundTrips)
        verdicts.push(`${trips} round trips > ${TARGETS.maxRoundTrips}`);
      if (def.key === "accept" && d1?.writeTrips && (d1.writeTrips.min !== 1 || d1.writeTrips.max !== 1)) {
        verdicts.push(`${d1.writeTrips.min}–${d1.writeTrips.max} write round trips, not exactly 1 batch`);
      }
      if (def.key === "invite_50" && byKey.invite_1?.d1?.trips && trips > byKey.invite_1.d1.trips.max) {
        verdicts.push(`more round trips (${trips}) than a 1-address invite (${byKey.invite_1.d1.trips.max})`);
      }
      // Where a request's workerd CPU goes, by the cost model: token check + runtime, D1 round
      // trips and extra statements (priced as primary-key lookups), the queue send, the SQL time
      // D1 reports, and the rest — the endpoint's own JS (validation, crypto, JSON) and the local
      // D1 object's work on bigger statements and results.
      const cpuPerRequest = result.cpu?.workerd_ms_per_request ?? null;
      let cpuBreakdown = null;
      if (costModel !== null && cpuPerRequest !== null && trips !== null) {
        const stmts = d1?.statements?.max ?? trips;
        const round = (v) => Math.round(v * 100) / 100;
        const parts = {
          auth_and_runtime_ms: costModel.auth_and_runtime_ms,
          round_trips_ms: trips > 0 ? costModel.first_round_trip_ms + (trips - 1) * costModel.extra_round_trip_ms : 0,
          extra_statements_ms: Math.max(stmts - trips, 0) * costModel.extra_statement_in_batch_ms,
          queue_send_ms: def.enqueues ? costModel.enqueue_one_ms : 0,
          sql_ms: d1?.sqlMs ?? 0,
        };
        const explained = Object.values(parts).reduce((a, b) => a + b, 0);
        cpuBreakdown = Object.fromEntries(
          [...Object.entries(parts), ["rest_ms", cpuPerRequest - explained]].map(([k, v]) => [k, round(v)]),
        );
      }
      const baselineCpu = baselineFigures[baselineRoute].workerd_cpu_ms_per_request;
      // The same ratio from CPU per request: steadier than rps when the machine is shared.
      const cpuRatio = baselineCpu && cpuPerRequest ? Math.round((baselineCpu / cpuPerRequest) * 100) / 100 : null;
      return {
        name: def.name,
        key: def.key,
        kind: def.kind,
        rps: result.rps,
        p50_ms: result.p50_ms,
        p99_ms: result.p99_ms,
        baseline,
        baseline_route: baselineRoute,
        ratio,
        ratio_target: ratioTarget,
        d1_round_trips: trips,
        d1_statements: d1?.statements?.max ?? null,
        d1_write_round_trips: d1?.writeTrips?.max ?? null,
        // SQL execution time D1 reports (mean over the probe): on Cloudflare every write runs on
        // the database's one primary, so 1000 / this is a ceiling on writes per second.
        d1_sql_ms: d1?.sqlMs ?? null,
        d1_sql_by_statement: d1?.sqlByStatement ?? null,
        d1_round_trips_range: d1?.trips ? [d1.trips.min, d1.trips.max] : null,
        d1_statements_range: d1?.statements ? [d1.statements.min, d1.statements.max] : null,
        workerd_cpu_ms_per_request: result.cpu?.workerd_ms_per_request ?? null,
        cpu_ratio: cpuRatio,
        cpu_breakdown: cpuBreakdown,
        cpu: result.cpu ?? null,
        requests: result.requests,
        non2xx: result.non2xx,
        socket_errors: result.errors + result.timeouts,
        connection_resets: result.socket?.resets ?? 0,
        pool: poolSize,
        pool_exhausted: result.exhausted,
        checks,
        verdicts,
      };
    });

    const [miniflarePkg, autocannonPkg] = await Promise.all(
      ["miniflare", "autocannon"].map(async (name) =>
        JSON.parse(await readFile(path.join(ROOT, "node_modules", name, "package.json"), "utf8")),
      ),
    );
    const results = {
      date: new Date().toISOString(),
      mode,
      config: {
        connections: cfg.connections,
        seconds: cfg.seconds,
        warmup_seconds: cfg.warmupSeconds,
        probe_requests: cfg.probeCount,
        distinct_readers: cfg.readers,
        targets: TARGETS,
      },
      machine: {
        cpus: os.cpus().length,
        cpu_model: os.cpus()[0]?.model?.trim() ?? "unknown",
        memory_gb: Math.round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        node: process.version,
        workerd: await workerdVersion(),
        miniflare: miniflarePkg.version,
        autocannon: autocannonPkg.version,
        // The machine may be shared: a high load average means noisy rps (CPU ms/req is steadier).
        load_average_before: Math.round(loadBefore * 100) / 100,
      },
      seed,
      tokens_signed: signer.count(),
      baselines: Object.values(baselineFigures),
      baseline_drift_pct: drifts.length > 0 ? Math.round(Math.max(...drifts) * 10) / 10 : null,
      cost_model: costModel,
      endpoints: endpointFigures,
      structural_targets: structuralTargets(endpointFigures),
      write_ceilings: writeCeilings(endpointFigures),
      storage,
      missing,
      peer,
      latency,
      purge,
      failures,
      total_seconds: Math.round((Date.now() - started) / 1000),
    };

    log("");
    log(terminalTable(results));
    log("");
    for (const t of results.structural_targets) log(`${t.met ? "met   " : "MISSED"} ${t.target} (${t.detail})`);
    for (const line of purgeLines(purge)) log(line);
    if (costModel) log(costModelLine(costModel));
    for (const line of capacityLines(results.storage, results.write_ceilings)) log(line);
    if (peer) log(`\nthe peer (Roster ÷ better-auth ${peer.version}):\n${peerLines(peer, false).join("\n")}`);
    if (latency) log(`\nsimulated D1 hop (p50 / p99 ms):\n${latencyLines(latency, false).join("\n")}`);
    log(`seed ${seconds(seed.ms)}; total ${results.total_seconds} s`);

    // Only a complete, clean full run replaces the committed figures.
    const file =
      mode === "smoke" ? "smoke.json" : only ? "partial.json" : failures.length > 0 ? "failed.json" : "latest.json";
    await mkdir(path.join(ROOT, "bench/results"), { recursive: true });
    await writeFile(path.join(ROOT, "bench/results", file), `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote bench/results/${file}`);
    if (file === "latest.json") {
      await updateBenchmarksMd(results);
      log("updated BENCHMARKS.md");
    }
  } catch (error) {
    failures.push(`harness: ${error.stack ?? error}`);
  } finally {
    await workers?.mf.dispose().catch(() => {});
    await receiver?.close();
    await rm(tmp, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    log(`\nFAILED (${failures.length}):`);
    for (const f of failures) log(`  - ${f}`);
    process.exitCode = 1;
  }
}

/** Thread CPU times from /proc (Linux); elsewhere the bench runs without them. */
function safeCpu() {
  try {
    return cpuSnapshot();
  } catch {
    return null;
  }
}

const START = "<!-- bench:results:start -->";
const END = "<!-- bench:results:end -->";

/** Replaces the generated block of BENCHMARKS.md; the hand-written text around it stays. */
async function updateBenchmarksMd(results) {
  const file = path.join(ROOT, "BENCHMARKS.md");
  const text = existsSync(file) ? await readFile(file, "utf8") : `# Benchmarks\n\n${START}\n${END}\n`;
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error("BENCHMARKS.md lacks the bench:results markers");
  await writeFile(file, `${text.slice(0, a + START.length)}\n${benchmarksBlock(results)}\n${text.slice(b)}`);
}

/** The round-trip targets, each with whether it holds and the figures behind it. */
function structuralTargets(endpoints) {
  const by = Object.fromEntries(endpoints.map((e) => [e.key, e]));
  const out = [];
  const measured = endpoints.filter((e) => e.d1_round_trips !== null);
  const worst = measured.reduce((a, e) => (a === null || e.d1_round_trips > a.d1_round_trips ? e : a), null);
  if (worst) {
    out.push({
      target: `every endpoint ≤ ${TARGETS.maxRoundTrips} D1 round trips`,
      met: worst.d1_round_trips <= TARGETS.maxRoundTrips,
      detail: measured.map((e) => `${e.key} ${e.d1_round_trips}`).join(", "),
    });
  }
  const accept = by.accept;
  if (accept?.d1_write_round_trips != null) {
    out.push({
      target: "accept: exactly one write batch",
      met: !accept.verdicts.some((v) => v.includes("write round trips")),
      detail: `${accept.d1_write_round_trips} writing round trip(s) of ${accept.d1_round_trips}, ${accept.d1_statements} statements`,
    });
  }
  if (by.invite_1?.d1_round_trips != null && by.invite_50?.d1_round_trips != null) {
    out.push({
      target: "50-address invite ≤ the round trips of a 1-address invite",
      met: by.invite_50.d1_round_trips <= by.invite_1.d1_round_trips,
      detail: `${by.invite_50.d1_round_trips} vs ${by.invite_1.d1_round_trips}`,
    });
  }
  return out;
}

if (args.render) {
  const file = path.join(ROOT, "bench/results/latest.json");
  const results = JSON.parse(await readFile(file, "utf8"));
  if (results.structural_targets === undefined) {
    results.structural_targets = structuralTargets(results.endpoints);
    await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  }
  await updateBenchmarksMd(results);
  log("re-rendered BENCHMARKS.md from bench/results/latest.json");
} else {
  await main();
}
