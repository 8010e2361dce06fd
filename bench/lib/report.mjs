// The terminal table, and the figures block of BENCHMARKS.md.
import { capacityLines } from "./capacity.mjs";

const fmt = (value, digits = 0) =>
  value === null || value === undefined || Number.isNaN(value) ? "–" : Number(value).toFixed(digits);

const d1 = (e) => (e.d1_round_trips === null ? "–" : `${e.d1_round_trips} / ${e.d1_statements}`);
const verdict = (e) => (e.verdicts.length === 0 ? "ok" : e.verdicts.join("; "));

/** One row per baseline and endpoint, as [header, cell] pairs shared by both tables. */
function rows(results) {
  const out = [];
  for (const b of results.baselines) {
    out.push({
      endpoint: b.name,
      rps: fmt(b.rps),
      p50: fmt(b.p50_ms),
      p99: fmt(b.p99_ms),
      vs: "",
      ratio: "",
      cpuRatio: "",
      target: "",
      d1: "",
      sql: "",
      cpu: fmt(b.workerd_cpu_ms_per_request, 2),
      verdict: "",
    });
  }
  for (const e of results.endpoints) {
    out.push({
      endpoint: e.name,
      rps: fmt(e.rps),
      p50: fmt(e.p50_ms),
      p99: fmt(e.p99_ms),
      vs: e.baseline_route,
      ratio: fmt(e.ratio, 2),
      cpuRatio: fmt(e.cpu_ratio, 2),
      target: `≥ ${e.ratio_target}`,
      d1: d1(e),
      sql: fmt(e.d1_sql_ms, 2),
      cpu: fmt(e.workerd_cpu_ms_per_request, 2),
      verdict: verdict(e),
    });
  }
  return out;
}

const COLUMNS = [
  ["endpoint", "endpoint"],
  ["rps", "rps"],
  ["p50", "p50 ms"],
  ["p99", "p99 ms"],
  ["vs", "vs"],
  ["ratio", "ratio"],
  ["cpuRatio", "CPU ratio"],
  ["target", "target"],
  ["d1", "D1 trips / stmts"],
  ["sql", "D1 SQL ms"],
  ["cpu", "CPU ms/req"],
  ["verdict", "verdict"],
];

export function terminalTable(results) {
  const table = [COLUMNS.map(([, title]) => title), ...rows(results).map((r) => COLUMNS.map(([key]) => r[key]))];
  for (const m of results.missing) table.push([m, "missing", ...COLUMNS.slice(2).map(() => "")]);
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => String(r[c]).length)));
  return table
    .map((r) =>
      r
        .map((cell, c) => String(cell).padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function markdownTable(results) {
  const lines = [
    `| ${COLUMNS.map(([, title]) => title).join(" | ")} |`,
    `|---|${COLUMNS.slice(1)
      .map(([key]) => (key === "vs" || key === "verdict" || key === "target" ? "---" : "---:"))
      .join("|")}|`,
  ];
  for (const r of rows(results)) {
    lines.push(
      `| ${COLUMNS.map(([key]) => (key === "endpoint" && r.vs !== "" ? `\`${r[key]}\`` : r[key])).join(" | ")} |`,
    );
  }
  for (const m of results.missing)
    lines.push(
      `| \`${m}\` | not on main | ${COLUMNS.slice(2)
        .map(() => "")
        .join(" | ")} |`,
    );
  return lines.join("\n");
}

export function purgeLines(purge) {
  if (purge === null) return [];
  if (purge.missing) return [`Expiry job: not measured (${purge.missing}).`];
  const lines = purge.phases.map(
    (p) =>
      `Expiry job, ${p.name}: ${p.rows.toLocaleString("en-US")} rows in ${fmt(p.ms / 1000, 2)} s ` +
      `(${fmt(p.rows_per_s)} rows/s), ${p.runs} run(s) (longest ${fmt(p.max_run_ms / 1000, 2)} s), ` +
      `${fmt(p.statements_per_run, 1)} statements and ${fmt(p.round_trips_per_run, 1)} round trips per run`,
  );
  if (purge.error) lines.push(`Expiry job: FAILED — ${purge.error}`);
  return lines;
}

export function costModelLine(model) {
  if (model === null) return null;
  return (
    `Local cost model (workerd CPU per request): token check + runtime ${fmt(model.auth_and_runtime_ms, 2)} ms; ` +
    `first D1 round trip ${fmt(model.first_round_trip_ms, 2)} ms, each further round trip ${fmt(model.extra_round_trip_ms, 2)} ms, ` +
    `each further statement in a batch ${fmt(model.extra_statement_in_batch_ms, 3)} ms; ` +
    `a queue send ${fmt(model.enqueue_one_ms, 2)} ms (` +
    (model.extra_message_ms < 0.005
      ? "no measurable cost per extra message in the batch)."
      : `+${fmt(model.extra_message_ms, 3)} ms per extra message).`)
  );
}

/** The generated block of BENCHMARKS.md, between its markers. */
export function benchmarksBlock(results) {
  const m = results.machine;
  const s = results.seed;
  const model = costModelLine(results.cost_model);
  return [
    `Last full run: **${results.date}** — ${m.cpus} × ${m.cpu_model}, ${m.memory_gb} GB, ${m.os}; Node ${m.node}, ` +
      `workerd ${m.workerd}, miniflare ${m.miniflare}, autocannon ${m.autocannon}; ${results.config.connections} ` +
      `connections × ${results.config.seconds} s per endpoint after a ${results.config.warmup_seconds} s warm-up; ` +
      `load average ${m.load_average_before} before the run.`,
    "",
    `Seed: ${Object.entries(s.rows)
      .map(([t, n]) => `${t} ${n.toLocaleString("en-US")}`)
      .join(
        ", ",
      )} in ${fmt(s.ms / 1000, 1)} s. The baselines drifted by up to ${fmt(results.baseline_drift_pct, 1)} % ` +
      "between the start and the end of the run.",
    "",
    markdownTable(results),
    "",
    ...(results.structural_targets ?? []).map((t) => `- ${t.met ? "Met" : "**Missed**"}: ${t.target} (${t.detail}).`),
    ...purgeLines(results.purge).map((l) => `- ${l}`),
    ...(model ? [`- ${model}`] : []),
    ...capacityLines(results.storage, results.write_ceilings),
    ...(results.peer
      ? [
          "",
          `**The peer** (better-auth ${results.peer.version}, organization plugin; ${results.peer.rounds} interleaved ` +
            `rounds × ${results.peer.seconds} s per side and workload, ${results.peer.connections} connections; ` +
            "÷ = Roster's rps over the peer's, and the peer's CPU per request over Roster's):",
          "",
          ...peerLines(results.peer, true),
        ]
      : []),
    ...(results.latency
      ? [
          "",
          `**Simulated D1 hop** (every round trip delayed by the hop inside the bench's D1 wrapper; ` +
            `${results.latency.connections} connections × ${results.latency.seconds} s per cell; p50 / p99 in ms):`,
          "",
          ...latencyLines(results.latency, true),
        ]
      : []),
  ].join("\n");
}

const trips = (t) => (t === null || t === undefined ? "–" : t.min === t.max ? `${t.max}` : `${t.min}–${t.max}`);

/** The side-by-side: Roster ÷ peer for rps and CPU per request, per workload and configuration. */
export function peerLines(peer, markdown) {
  if (!peer) return [];
  const head = [
    "workload",
    "Roster rps",
    "CPU ms/req",
    "D1 trips",
    "ba default rps",
    "CPU ms/req",
    "D1 trips",
    "ba joins rps",
    "CPU ms/req",
    "D1 trips",
    "÷ default (rps / CPU)",
    "÷ joins (rps / CPU)",
  ];
  const body = peer.workloads.map((w) => {
    const s = w.sides;
    const side = (x) => [fmt(x.rps), fmt(x.cpu_ms_per_request, 2), trips(x.d1_round_trips)];
    return [
      w.name,
      ...side(s.roster),
      ...side(s.peer_default),
      ...side(s.peer_joins),
      `${fmt(w.vs_default.rps, 2)}× / ${fmt(w.vs_default.cpu, 2)}×`,
      `${fmt(w.vs_joins.rps, 2)}× / ${fmt(w.vs_joins.cpu, 2)}×`,
    ];
  });
  return table([head, ...body], markdown);
}

/** p50/p99 per workload, side and simulated D1 hop. */
export function latencyLines(latency, markdown) {
  if (!latency) return [];
  const head = ["workload", "hop ms", "Roster p50 / p99", "ba default p50 / p99", "ba joins p50 / p99"];
  const body = [];
  for (const w of latency.workloads) {
    for (const [ms, cells] of Object.entries(w.by_latency)) {
      body.push([
        w.name,
        ms,
        ...["roster", "peer_default", "peer_joins"].map((k) => `${fmt(cells[k].p50_ms)} / ${fmt(cells[k].p99_ms)}`),
      ]);
    }
  }
  return table([head, ...body], markdown);
}

function table(rows, markdown) {
  if (markdown) {
    return [
      `| ${rows[0].join(" | ")} |`,
      `|---|${rows[0]
        .slice(1)
        .map(() => "---:")
        .join("|")}|`,
      ...rows.slice(1).map((r) => `| ${r.join(" | ")} |`),
    ];
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) =>
    r
      .map((cell, c) => String(cell).padEnd(widths[c]))
      .join("  ")
      .trimEnd(),
  );
}
