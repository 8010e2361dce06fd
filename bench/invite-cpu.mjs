import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { applyMigrations, readMigrations, runStatements } from "./lib/seed.mjs";
import { cpuDelta, cpuSnapshot, inspectorTargets, saveProfile, startProfiles, summarizeProfile } from "./lib/profile.mjs";
import { readRootConfig } from "./lib/workers.mjs";

const r = await build({ entryPoints: [new URL("./invite-cpu/entry.ts", import.meta.url).pathname], bundle: true, format: "esm", write: false, platform: "neutral",
  conditions: ["workerd", "worker", "browser"], mainFields: ["module", "main"], external: ["cloudflare:*", "node:*"] });
const cfg = await readRootConfig();
const mf = new Miniflare({ modules: true, script: r.outputFiles[0].text, compatibilityDate: cfg.compatibilityDate,
  compatibilityFlags: cfg.compatibilityFlags, d1Databases: { DB: "db" }, queueProducers: { Q: "q" },
  ...(process.env.PROFILE ? { inspectorPort: 0 } : {}) });
const db = await mf.getD1Database("DB");
await applyMigrations(db, await readMigrations());
import { SIZES, seedStatements } from "./lib/seed.mjs";
const now = Date.now();
await runStatements(db, seedStatements(SIZES.smoke, now));
const owner = await db.prepare("SELECT organization_id AS org, user_id AS user FROM organization_users WHERE role = 'owner' LIMIT 1").first();
const base = await mf.ready;
const rounds = Number(process.env.ROUNDS ?? 7), n = Number(process.env.N ?? 40), size = Number(process.env.SIZE ?? 50);
const mode = process.env.MODE ?? "real";
const call = async (k, tag) => {
  const res = await mf.dispatchFetch(`http://x/run?mode=${mode}&n=${k}&size=${size}&tag=${tag}&org=${owner.org}&user=${owner.user}`);
  const text = await res.text();
  if (text !== "ok") throw new Error(text);
};
await call(20, "warm");
const stop = process.env.PROFILE ? await startProfiles(await inspectorTargets(mf, /./)) : null;
const per = [];
for (let r = 0; r < rounds; r++) {
  const a = cpuSnapshot();
  await call(n, `r${r}`);
  const d = cpuDelta(a, cpuSnapshot());
  per.push(d.workerd_ms / n);
}
per.sort((a, b) => a - b);
console.log(JSON.stringify({ mode, size, n, rounds, best: per[0].toFixed(2), median: per[Math.floor(per.length / 2)].toFixed(2), all: per.map((x) => x.toFixed(2)) }));
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
