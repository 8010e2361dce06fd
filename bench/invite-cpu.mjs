#!/usr/bin/env node
// `node bench/invite-cpu.mjs`: where the CPU of the 50-address invite goes (issue 16, part 3).
// Runs `createInvites` alone (no HTTP, token check or zod) in workerd on Miniflare, against a real
// local D1 with the smoke seed, and reports workerd's CPU per call (user and system separately).
//   MODE=real   (default) each call's batch runs on D1
//   MODE=fake   D1 answers every batch with the results of the first real call: the Worker's JS alone
//               (hashing, ids, statement building, result mapping, the queue send)
//   MODE=dump   writes one call's statements and the seed's SQL to bench/results/invite-cpu.*.json,
//               for `python3 bench/invite-cpu/replay.py` (the batch in SQLite alone, rolled back)
//   PROFILE=1   + V8 CPU profiles of every isolate (bench/results/invite-cpu.*.cpuprofile)
//   ENTRY=path  another copy of bench/invite-cpu/entry.ts (e.g. of an older tree) for an A/B
//   SIZE, N, ROUNDS  addresses per call, calls per round, rounds
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import {
  cpuDelta,
  cpuSnapshot,
  inspectorTargets,
  saveProfile,
  startProfiles,
  summarizeProfile,
} from "./lib/profile.mjs";
import { applyMigrations, readMigrations, runStatements, SIZES, seedStatements } from "./lib/seed.mjs";
import { readRootConfig } from "./lib/workers.mjs";

const r = await build({
  entryPoints: [process.env.ENTRY ?? new URL("./invite-cpu/entry.ts", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  write: false,
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  nodePaths: [new URL("../node_modules", import.meta.url).pathname],
  external: ["cloudflare:*", "node:*"],
});
const cfg = await readRootConfig();
const mf = new Miniflare({
  modules: true,
  script: r.outputFiles[0].text,
  compatibilityDate: cfg.compatibilityDate,
  compatibilityFlags: cfg.compatibilityFlags,
  d1Databases: { DB: "db" },
  queueProducers: { Q: "q" },
  ...(process.env.PROFILE ? { inspectorPort: 0 } : {}),
});
const db = await mf.getD1Database("DB");
await applyMigrations(db, await readMigrations());
const now = Date.now();
await runStatements(db, seedStatements(SIZES.smoke, now));
const owner = await db
  .prepare("SELECT organization_id AS org, user_id AS user FROM organization_users WHERE role = 'owner' LIMIT 1")
  .first();
await mf.ready;
const rounds = Number(process.env.ROUNDS ?? 7),
  n = Number(process.env.N ?? 40),
  size = Number(process.env.SIZE ?? 50);
const mode = process.env.MODE ?? "real";
const call = async (k, tag) => {
  const res = await mf.dispatchFetch(
    `http://x/run?mode=${mode}&n=${k}&size=${size}&tag=${tag}&org=${owner.org}&user=${owner.user}`,
  );
  const text = await res.text();
  if (text !== "ok") throw new Error(text);
};
if (mode === "dump") {
  // Writes the seeded database's SQL and one 50-address call's statements for a replay in SQLite.
  const res = await mf.dispatchFetch(
    `http://x/run?mode=dump&n=1&size=${size}&tag=dump&org=${owner.org}&user=${owner.user}`,
  );
  const { writeFile } = await import("node:fs/promises");
  await writeFile("bench/results/invite-cpu.statements.json", await res.text());
  await writeFile(
    "bench/results/invite-cpu.seed.json",
    JSON.stringify({
      migrations: (await readMigrations()).flatMap((m) => m.queries),
      seed: seedStatements(SIZES.smoke, now),
      seed_full: seedStatements(SIZES.full, now),
    }),
  );
  await mf.dispose();
  process.exit(0);
}
await call(20, "warm");
const stop = process.env.PROFILE ? await startProfiles(await inspectorTargets(mf, /./)) : null;
// user and system CPU of workerd separately: SQLite's commits to its file are system time.
const { readFileSync } = await import("node:fs");
const { workerdPids } = await import("./lib/profile.mjs");
const userSys = () =>
  workerdPids().reduce(
    (acc, pid) => {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8")
        .slice(readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2)
        .split(" ");
      return [acc[0] + Number(f[11]) * 10, acc[1] + Number(f[12]) * 10];
    },
    [0, 0],
  );
const us0 = userSys();
const per = [];
for (let r = 0; r < rounds; r++) {
  const a = cpuSnapshot();
  await call(n, `r${r}`);
  const d = cpuDelta(a, cpuSnapshot());
  per.push(d.workerd_ms / n);
}
const us1 = userSys();
const calls = rounds * n;
console.log(
  `user ${((us1[0] - us0[0]) / calls).toFixed(2)} ms/call, system ${((us1[1] - us0[1]) / calls).toFixed(2)} ms/call`,
);
per.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    mode,
    size,
    n,
    rounds,
    best: per[0].toFixed(2),
    median: per[Math.floor(per.length / 2)].toFixed(2),
    all: per.map((x) => x.toFixed(2)),
  }),
);
if (stop) {
  for (const { target, profile } of await stop()) {
    const summary = summarizeProfile(profile, 25);
    if (summary.busy_ms < 50) continue;
    await saveProfile(`bench/results/invite-cpu.${mode}.${target.replace(/[^a-z0-9]+/gi, "_")}.cpuprofile`, profile);
    console.log(`profile ${target}: busy ${summary.busy_ms} ms`);
    for (const row of summary.self) console.log(`  self ${String(row.share).padStart(5)} %  ${row.frame}`);
    for (const row of summary.inclusive) console.log(`  incl ${String(row.share).padStart(5)} %  ${row.frame}`);
  }
}
await mf.dispose();
