// The peer side by side, and the latency table (BENCHMARKS.md "The peer" and "Production latency,
// simulated"). Three sides on the same workerd, each from its own bundle: Roster behind the
// bench's D1 latency wrapper (bench/wrapped), and better-auth (bench/peer) in its default
// configuration and with `advanced.database.joins`. A B C A B C: each round runs every side once
// per workload, so drift of a shared machine falls on all sides alike.

import { load, probe, socketVerdict } from "./load.mjs";
import { peerWorkloads, sampleLine } from "./peer.mjs";
import { cpuDelta, cpuSnapshot } from "./profile.mjs";
import { LATENCY_HEADER_NAME } from "./workers.mjs";

export const SIDES = [
  { key: "roster", name: "Roster", workload: "roster", url: "wrapped", counted: "wrappedCounted" },
  {
    key: "peer_default",
    name: "better-auth (default)",
    workload: "peer",
    url: "peerDefault",
    counted: "peerCountedDefault",
  },
  { key: "peer_joins", name: "better-auth (joins)", workload: "peer", url: "peerJoins", counted: "peerCountedJoins" },
];

const round = (v, digits = 2) => (v === null || Number.isNaN(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits);
const mean = (xs) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

function safeCpu() {
  try {
    return cpuSnapshot();
  } catch {
    return null;
  }
}

/**
 * Runs the five shared workloads on every side: a probe through the counting instance (round
 * trips, a checked sample), then `cfg.rounds` interleaved measured runs. Returns per workload and
 * side the mean rps and CPU ms/request, and Roster ÷ each peer configuration.
 */
export async function runSideBySide({ workers, signer, cfg, runTag, log, failures }) {
  const { urls, db, peerDb } = workers;
  const workloads = peerWorkloads({ readers: cfg.readers, runTag });
  const out = [];
  for (const w of workloads) {
    // The peer's fixtures are prepared once and shared by both configurations: they use the same
    // database, so its accept pool is handed out once, never twice.
    const fixtures = {
      roster: await w.roster.prepare(db, peerDb),
      peer: await w.peer.prepare(db, peerDb),
    };
    await signer.sign(new Set(fixtures.roster.users));
    const sides = {};
    for (const side of SIDES) {
      const def = w[side.workload];
      const authorization = side.workload === "roster" ? signer.authorization : null;
      const checked = await probe({
        url: urls[side.counted],
        count: cfg.probeCount,
        next: fixtures[side.workload].next,
        authorization,
        validate: def.validate,
      });
      failures.push(...checked.failures.slice(0, 3).map((f) => `${w.name} (${side.name}): ${f}`));
      if (checked.trips === null && checked.failures.length === 0)
        failures.push(`${w.name} (${side.name}): no x-d1-round-trips`);
      sides[side.key] = {
        route: def.route,
        d1_round_trips: checked.trips,
        d1_statements: checked.statements,
        sample: sampleLine(checked.sample),
        // The statements of a probed request, in order: what each round trip does.
        sql: checked.sqlByStatement.map((x) => x.sql),
        runs: [],
      };
    }
    for (let r = 0; r < cfg.rounds; r++) {
      for (const side of SIDES) {
        const next = fixtures[side.workload].next;
        const authorization = side.workload === "roster" ? signer.authorization : null;
        const url = urls[side.url];
        if (cfg.warmupSeconds > 0) {
          await load({ url, connections: cfg.connections, seconds: cfg.warmupSeconds, next, authorization });
        }
        const before = safeCpu();
        const result = await load({ url, connections: cfg.connections, seconds: cfg.seconds, next, authorization });
        const after = safeCpu();
        // No CPU per request from a run that completed nothing (a starved machine): not a figure.
        const cpu =
          before && after && result.requests > 0 ? cpuDelta(before, after).workerd_ms / result.requests : null;
        const sockets = socketVerdict(result);
        const socketTrouble = sockets.total;
        if (result.non2xx > 0 || sockets.fail) {
          failures.push(
            `${w.name} (${side.name}): ${result.non2xx} non-2xx, ${socketTrouble} socket errors under load ` +
              `(status codes ${JSON.stringify(result.statusCodes)}; errors ${JSON.stringify(result.errorSamples)})`,
          );
        }
        if (result.exhausted) log(`  ! ${w.name} (${side.name}): fixture pool ran out after ${result.duration_s} s`);
        sides[side.key].runs.push({
          // Requests over the run's own duration: autocannon's per-second mean undercounts short runs.
          rps: round(result.requests / Math.max(result.duration_s, 0.001), 1),
          p50_ms: result.p50_ms,
          p99_ms: result.p99_ms,
          requests: result.requests,
          socket_errors: socketTrouble,
          cpu_ms_per_request: round(cpu, 3),
        });
        log(
          `  ${w.name} — ${side.name}: ${sides[side.key].runs.at(-1).rps} rps, ${round(cpu, 2)} ms CPU/req, ` +
            `D1 ${sides[side.key].d1_round_trips?.max ?? "?"} trips`,
        );
      }
    }
    for (const s of Object.values(sides)) {
      // A run that completed nothing (a starved machine) is no figure: left out, and listed in runs.
      s.rps = round(mean(s.runs.filter((x) => x.requests > 0).map((x) => x.rps)), 1);
      s.cpu_ms_per_request = round(mean(s.runs.map((x) => x.cpu_ms_per_request).filter((x) => x !== null)), 3);
    }
    const ratios = (peer) => ({
      rps: peer.rps > 0 ? round(sides.roster.rps / peer.rps) : null,
      cpu:
        sides.roster.cpu_ms_per_request > 0 ? round(peer.cpu_ms_per_request / sides.roster.cpu_ms_per_request) : null,
    });
    out.push({
      key: w.key,
      name: w.name,
      sides,
      vs_default: ratios(sides.peer_default),
      vs_joins: ratios(sides.peer_joins),
    });
  }
  return out;
}

/**
 * p50/p99 per workload and side with every D1 round trip delayed by each of `latencies` ms, at a
 * low fixed concurrency: the figure is a request's own latency, not a queue behind a busy core.
 */
export async function runLatency({ workers, signer, cfg, runTag, latencies, log, failures }) {
  const { urls, db, peerDb } = workers;
  const workloads = peerWorkloads({ readers: cfg.readers, runTag: `${runTag}l` });
  const out = [];
  for (const w of workloads) {
    const fixtures = {
      roster: await w.roster.prepare(db, peerDb),
      peer: await w.peer.prepare(db, peerDb),
    };
    await signer.sign(new Set(fixtures.roster.users));
    const row = { key: w.key, name: w.name, by_latency: {} };
    for (const ms of latencies) {
      const cells = {};
      for (const side of SIDES) {
        const authorization = side.workload === "roster" ? signer.authorization : null;
        const headers = { [LATENCY_HEADER_NAME]: String(ms) };
        if (cfg.latencyProbeOnly) {
          // --smoke: one timed request per side through the counting instance, which must take at
          // least one hop — the wrapper is in the path on both sides. (Not trips × hop: better-auth
          // runs some of its queries concurrently.)
          const started = performance.now();
          const checked = await probe({
            url: urls[side.counted],
            count: 1,
            next: fixtures[side.workload].next,
            authorization,
            validate: w[side.workload].validate,
            headers,
          });
          const elapsed = performance.now() - started;
          const trips = checked.trips?.max ?? 0;
          failures.push(...checked.failures.map((f) => `latency ${ms} ms, ${w.name} (${side.name}): ${f}`));
          if (trips === 0 || elapsed < ms) {
            failures.push(
              `latency ${ms} ms, ${w.name} (${side.name}): ${Math.round(elapsed)} ms for ${trips} round trips`,
            );
          }
          cells[side.key] = { p50_ms: Math.round(elapsed), p99_ms: Math.round(elapsed), requests: 1, trips };
          continue;
        }
        if (cfg.latencyWarmupSeconds > 0) {
          await load({
            url: urls[side.url],
            connections: cfg.latencyConnections,
            seconds: cfg.latencyWarmupSeconds,
            next: fixtures[side.workload].next,
            authorization,
            headers,
          });
        }
        const result = await load({
          url: urls[side.url],
          connections: cfg.latencyConnections,
          seconds: cfg.latencySeconds,
          next: fixtures[side.workload].next,
          authorization,
          headers,
        });
        if (result.non2xx > 0) {
          failures.push(
            `latency ${ms} ms, ${w.name} (${side.name}): ${result.non2xx} non-2xx ${JSON.stringify(result.statusCodes)}`,
          );
        }
        cells[side.key] = { p50_ms: result.p50_ms, p99_ms: result.p99_ms, requests: result.requests };
      }
      row.by_latency[ms] = cells;
      log(
        `  ${w.name} @ ${ms} ms/trip: ` +
          SIDES.map((s) => `${s.name} p50 ${cells[s.key].p50_ms} / p99 ${cells[s.key].p99_ms}`).join("; "),
      );
    }
    out.push(row);
  }
  return out;
}
