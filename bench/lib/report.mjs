// The terminal table, and the figures block of BENCHMARKS.md.

const fmt = (value, digits = 0) =>
  value === null || value === undefined || Number.isNaN(value) ? "–" : Number(value).toFixed(digits);

const d1 = (e) => (e.d1_round_trips === null ? "–" : `${e.d1_round_trips} / ${e.d1_statements}`);

function pad(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) =>
    r
      .map((cell, c) => String(cell).padEnd(widths[c]))
      .join("  ")
      .trimEnd(),
  );
}

export function terminalTable(results) {
  const rows = [
    ["endpoint", "rps", "p50 ms", "p99 ms", "vs", "ratio", "target", "D1 trips / stmts", "CPU ms/req", "verdict"],
  ];
  for (const b of results.baselines) {
    rows.push([
      b.name,
      fmt(b.rps),
      fmt(b.p50_ms),
      fmt(b.p99_ms),
      "",
      "",
      "",
      "",
      fmt(b.workerd_cpu_ms_per_request, 2),
      "",
    ]);
  }
  for (const e of results.endpoints) {
    rows.push([
      e.name,
      fmt(e.rps),
      fmt(e.p50_ms),
      fmt(e.p99_ms),
      e.baseline_route,
      fmt(e.ratio, 2),
      `≥ ${e.ratio_target}`,
      d1(e),
      fmt(e.workerd_cpu_ms_per_request, 2),
      e.verdicts.length === 0 ? "ok" : e.verdicts.join("; "),
    ]);
  }
  for (const m of results.missing) rows.push([m, "missing", "", "", "", "", "", "", "", ""]);
  return pad(rows).join("\n");
}

export function markdownTable(results) {
  const lines = [
    "| endpoint | rps | p50 ms | p99 ms | ratio (vs) | D1 round trips / statements | workerd CPU ms/req | targets |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const b of results.baselines) {
    lines.push(
      `| ${b.name} | ${fmt(b.rps)} | ${fmt(b.p50_ms)} | ${fmt(b.p99_ms)} | | | ${fmt(b.workerd_cpu_ms_per_request, 2)} | |`,
    );
  }
  for (const e of results.endpoints) {
    const verdict = e.verdicts.length === 0 ? "met" : `**missed**: ${e.verdicts.join("; ")}`;
    lines.push(
      `| \`${e.name}\` | ${fmt(e.rps)} | ${fmt(e.p50_ms)} | ${fmt(e.p99_ms)} | ${fmt(e.ratio, 2)} (${e.baseline_route}, ≥ ${e.ratio_target}) | ${d1(e)} | ${fmt(e.workerd_cpu_ms_per_request, 2)} | ${verdict} |`,
    );
  }
  for (const m of results.missing) lines.push(`| \`${m}\` | not on main yet | | | | | | |`);
  return lines.join("\n");
}

export function purgeLines(purge) {
  if (purge === null) return ["Expiry job: not measured (no job function exported from workers/cron-expiry yet)."];
  if (purge.error) return [`Expiry job: failed — ${purge.error}`];
  return purge.phases.map(
    (p) =>
      `${p.name}: ${p.rows.toLocaleString("en-US")} rows in ${fmt(p.ms / 1000, 2)} s (${fmt(p.rows_per_s)} rows/s), ` +
      `${p.runs} run(s) (longest ${fmt(p.max_run_ms / 1000, 2)} s), ${fmt(p.statements_per_run, 1)} statements and ` +
      `${fmt(p.round_trips_per_run, 1)} round trips per run`,
  );
}

/** The generated block of BENCHMARKS.md, between its markers. */
export function benchmarksBlock(results) {
  const m = results.machine;
  const s = results.seed;
  return [
    `Last full run: **${results.date}** — ${m.cpus} × ${m.cpu_model}, ${m.memory_gb} GB, ${m.os}; Node ${m.node}, ` +
      `workerd ${m.workerd}, miniflare ${m.miniflare}; ${results.config.connections} connections × ` +
      `${results.config.seconds} s per endpoint (after a ${results.config.warmup_seconds} s warm-up).`,
    "",
    `Seed: ${Object.entries(s.rows)
      .map(([t, n]) => `${t} ${n.toLocaleString("en-US")}`)
      .join(
        ", ",
      )} in ${fmt(s.ms / 1000, 1)} s. Baselines drifted ${fmt(results.baseline_drift_pct, 1)} % between the start and the end of the run.`,
    "",
    markdownTable(results),
    "",
    ...purgeLines(results.purge).map((l) => `- ${l}`),
  ].join("\n");
}
