// The expiry job over a large backlog: its own database with `invites` pending invites past
// `expires_at`. The job runs (as the hourly cron would, with its production budget) until the
// backlog is expired, then again past the retention until the expired invites are deleted.
import path from "node:path";
import { json, request } from "./http.mjs";
import { applyMigrations, purgeSeedStatements, readMigrations, runStatements } from "./seed.mjs";
import { buildBundle, ROOT } from "./workers.mjs";

const DAY = 86_400_000;

export async function buildPurgeWorker(tmp) {
  return { script: await buildBundle(path.join(ROOT, "bench/purge/wrangler.toml"), path.join(tmp, "purge")) };
}

async function runOnce(url, now) {
  const response = await request(new URL(`/run?now=${now}`, url), { method: "POST" });
  if (response.status === 501) return { missing: true };
  if (response.status !== 200) throw new Error(`expiry job run -> ${response.status} ${response.text.slice(0, 500)}`);
  return json(response.text);
}

/** Runs the job until it reports `complete`; `rowsOf(run)` says what a run handled. */
async function phase(name, url, now, rowsOf, maxRuns) {
  const runs = [];
  const started = performance.now();
  for (;;) {
    const t = performance.now();
    const body = await runOnce(url, now);
    if (body.missing) return null;
    runs.push({
      ms: performance.now() - t,
      rows: rowsOf(body.run),
      statements: body.statements,
      roundTrips: body.roundTrips,
      run: body.run,
    });
    if (body.run.complete === true) break;
    if (runs.length >= maxRuns) throw new Error(`${name}: not complete after ${maxRuns} runs`);
  }
  const ms = performance.now() - started;
  const rows = runs.reduce((a, r) => a + r.rows, 0);
  const statements = runs.reduce((a, r) => a + r.statements, 0);
  const roundTrips = runs.reduce((a, r) => a + r.roundTrips, 0);
  return {
    name,
    rows,
    ms: Math.round(ms),
    rows_per_s: Math.round(rows / (ms / 1000)),
    runs: runs.length,
    statements,
    statements_per_run: statements / runs.length,
    round_trips_per_run: roundTrips / runs.length,
    max_run_ms: Math.round(Math.max(...runs.map((r) => r.ms))),
    // What the job reports about itself, to cross-check the counted figures.
    reported_statements: runs.reduce((a, r) => a + (r.run.statements ?? 0), 0),
  };
}

const MISSING = { missing: "no runExpiryJob exported from workers/cron-expiry" };

export async function runPurge({ workers, purgeScript, invites, now }) {
  if (!purgeScript.script || !workers.purgeDb) return MISSING;
  try {
    const db = workers.purgeDb;
    await applyMigrations(db, await readMigrations());
    const seedStart = performance.now();
    await runStatements(db, purgeSeedStatements(invites, now));
    const seedMs = Math.round(performance.now() - seedStart);
    const maxRuns = Math.ceil(invites / 100) + 10;
    const expire = await phase("mark expired", workers.urls.purge, now, (r) => r.expired ?? 0, maxRuns);
    if (expire === null) return MISSING;
    const after = await db
      .prepare(
        `SELECT (SELECT count(*) FROM invites WHERE status = 'expired') AS expired,
                (SELECT count(*) FROM invites WHERE status = 'pending') AS pending,
                (SELECT count(*) FROM audit_events WHERE action = 'invite.expired') AS audited`,
      )
      .first();
    const checks = [];
    if (after.expired !== invites || after.pending !== 0) {
      checks.push(
        `after the expiry phase ${after.expired} expired and ${after.pending} pending, expected ${invites} and 0`,
      );
    }
    if (after.audited !== invites) checks.push(`${after.audited} invite.expired audit events for ${invites} invites`);
    // Past the retention (counted from updated_at = the expiry run), everything expired is deleted.
    const later = now + 30 * DAY;
    const purge = await phase("delete past retention", workers.urls.purge, later, (r) => r.purgedInvites ?? 0, maxRuns);
    const left = await db.prepare("SELECT count(*) AS n FROM invites").first();
    if (left.n !== 0) checks.push(`${left.n} invites left after the retention phase`);
    return {
      backlog: invites,
      seed_ms: seedMs,
      phases: [expire, purge],
      error: checks.length > 0 ? checks.join("; ") : undefined,
    };
  } catch (error) {
    return {
      backlog: invites,
      phases: [],
      error: `${error.message}${error.cause ? ` (${error.cause.message ?? error.cause})` : ""}`,
    };
  }
}
