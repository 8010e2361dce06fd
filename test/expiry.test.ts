import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { D1Counter } from "../workers/api/d1-counter";
import { days } from "../workers/core/config";
import { EXPIRY_BUDGET, type ExpiryBudget, type ExpiryRun, runExpiryJob } from "../workers/cron-expiry";
import worker from "../workers/index";
import { seedOrg, seedUser, uid } from "./helpers";

/**
 * The hourly expiry job. It acts on the whole (shared) database, so every assertion is scoped to
 * rows this file created; the clock is the real one and rows are seeded with past timestamps.
 */

const HOUR = 3_600_000;

interface Counted {
  statements: number;
  roundTrips: number;
  /** The most parameters bound to one statement. */
  maxParams: number;
}

/** env with a DB binding that counts statements and round trips (each statement of a batch is one statement). */
function countingEnv(vars: Record<string, string> = {}): { env: Env; counted: Counted } {
  const counter = new D1Counter();
  return { env: counter.wrapEnv({ ...env, ...vars } as Env), counted: counter };
}

/** Inserts `count` invites of `orgId` in one statement; returns the id prefix they share. */
async function insertInvites(
  orgId: string,
  count: number,
  row: { status?: string; expiresAt: number; updatedAt?: number; createdAt?: number },
): Promise<string> {
  const prefix = uid("inv_exp");
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
     INSERT INTO invites (id, organization_id, email, role, status, token_hash, expires_at, created_at, updated_at)
     SELECT ? || '_' || i, ?, lower(?) || '_' || i || '@example.com', 'member', ?, lower(hex(randomblob(32))), ?, ?, ?
     FROM n`,
  )
    .bind(
      count,
      prefix,
      orgId,
      prefix,
      row.status ?? "pending",
      row.expiresAt,
      row.createdAt ?? row.updatedAt ?? row.expiresAt - days(7),
      row.updatedAt ?? row.createdAt ?? row.expiresAt - days(7),
    )
    .run();
  return prefix;
}

async function statusCounts(prefix: string): Promise<Record<string, number>> {
  const { results } = await env.DB.prepare(
    "SELECT status, count(*) AS n FROM invites WHERE id >= ? AND id < ? GROUP BY status",
  )
    .bind(`${prefix}_`, `${prefix}_~`)
    .all<{ status: string; n: number }>();
  return Object.fromEntries(results.map((r) => [r.status, r.n]));
}

/** invite.expired events per invite of `prefix`: the largest count and how many invites have one. */
async function expiredEvents(prefix: string): Promise<{ invites: number; maxPerInvite: number }> {
  const row = await env.DB.prepare(
    `SELECT count(*) AS invites, COALESCE(max(n), 0) AS maxPerInvite FROM (
       SELECT target_id, count(*) AS n FROM audit_events
       WHERE action = 'invite.expired' AND target_id >= ? AND target_id < ? GROUP BY target_id)`,
  )
    .bind(`${prefix}_`, `${prefix}_~`)
    .first<{ invites: number; maxPerInvite: number }>();
  return row ?? { invites: 0, maxPerInvite: 0 };
}

async function runUntilComplete(
  now: number,
  budget: ExpiryBudget,
  maxRuns: number,
): Promise<{ runs: (ExpiryRun & { counted: Counted })[] }> {
  const runs: (ExpiryRun & { counted: Counted })[] = [];
  for (let i = 0; i < maxRuns; i++) {
    const { env: counting, counted } = countingEnv();
    const run = await runExpiryJob(counting, now, budget);
    runs.push({ ...run, counted });
    if (run.complete) return { runs };
  }
  throw new Error(`not complete after ${maxRuns} runs`);
}

describe("marking expired invites", () => {
  it("pending invites past expires_at become expired (updated_at = now), each audited once with no actor", async () => {
    const owner = await seedUser();
    const member = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: member.id, role: "member" }] });
    const now = Date.now();
    const due = await insertInvites(org.id, 3, { expiresAt: now - HOUR });
    const future = await insertInvites(org.id, 2, { expiresAt: now + HOUR });
    const accepted = await insertInvites(org.id, 1, {
      status: "accepted",
      expiresAt: now - HOUR,
      updatedAt: now - HOUR,
    });

    const run = await runExpiryJob(env, now);

    expect(run.expired).toBeGreaterThanOrEqual(3);
    expect(run.complete).toBe(true);
    expect(await statusCounts(due)).toEqual({ expired: 3 });
    const { results } = await env.DB.prepare("SELECT updated_at FROM invites WHERE id LIKE ?").bind(`${due}_%`).all();
    expect(results.map((r) => r.updated_at)).toEqual([now, now, now]);
    expect(await statusCounts(future)).toEqual({ pending: 2 });
    expect(await statusCounts(accepted)).toEqual({ accepted: 1 });

    const events = await env.DB.prepare(
      "SELECT * FROM audit_events WHERE action = 'invite.expired' AND target_id LIKE ? ORDER BY target_id",
    )
      .bind(`${due}_%`)
      .all<any>();
    expect(events.results).toHaveLength(3);
    for (const event of events.results) {
      expect(event).toMatchObject({ organization_id: org.id, actor_id: null, target_type: "invite", created_at: now });
      expect(JSON.parse(event.data)).toEqual({
        email: `${event.target_id.replace(/_(\d+)$/, "").toLowerCase()}_${event.target_id.match(/_(\d+)$/)[1]}@example.com`,
        expiresAt: new Date(now - HOUR).toISOString(),
      });
    }
    const members = await env.DB.prepare("SELECT user_id FROM organization_users WHERE organization_id = ?")
      .bind(org.id)
      .all();
    expect(members.results).toHaveLength(2);

    // A second run finds nothing more to do for these rows.
    await runExpiryJob(env, now + 1);
    expect(await expiredEvents(due)).toEqual({ invites: 3, maxPerInvite: 1 });
  });

  it("two overlapping runs expire and audit each invite once", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const now = Date.now();
    const due = await insertInvites(org.id, 40, { expiresAt: now - HOUR });
    const budget = { statements: 40, chunkRows: 7 };

    await Promise.all([runExpiryJob(env, now, budget), runExpiryJob(env, now, budget), runExpiryJob(env, now, budget)]);

    expect(await statusCounts(due)).toEqual({ expired: 40 });
    expect(await expiredEvents(due)).toEqual({ invites: 40, maxPerInvite: 1 });
  });

  it("runs in chunks within its statement budget and carries a backlog over to the next runs", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const now = Date.now();
    const due = await insertInvites(org.id, 95, { expiresAt: now - HOUR });
    const budget = { statements: 6, chunkRows: 10 };

    const { runs } = await runUntilComplete(now, budget, 200);

    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(runs[0]?.complete).toBe(false);
    for (const run of runs) {
      expect(run.counted.statements).toBe(run.statements);
      expect(run.statements).toBeLessThanOrEqual(budget.statements);
      expect(run.counted.maxParams).toBeLessThanOrEqual(100);
    }
    expect(await statusCounts(due)).toEqual({ expired: 95 });
    expect(await expiredEvents(due)).toEqual({ invites: 95, maxPerInvite: 1 });
  });
});

describe("purging", () => {
  it("deletes finished invites past INVITE_RETENTION_DAYS counted from updated_at, with their delivery records", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const now = Date.now();
    const old = now - days(8);
    const purged = await Promise.all(
      (["accepted", "declined", "revoked", "expired"] as const).map((status) =>
        insertInvites(org.id, 2, { status, expiresAt: old, updatedAt: old }),
      ),
    );
    const recent = await insertInvites(org.id, 2, { status: "accepted", expiresAt: now, updatedAt: now - days(6) });
    // Expired long ago but marked expired yesterday: its retention started when it was marked.
    const markedLate = await insertInvites(org.id, 1, {
      status: "expired",
      expiresAt: now - days(30),
      updatedAt: now - days(1),
    });
    const oldPending = await insertInvites(org.id, 1, { expiresAt: now + HOUR, updatedAt: now - days(30) });
    const firstPurged = `${purged[0]}_0`;
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO email_deliveries (invite_id, token_version, state, claim_id, lease_until, created_at, updated_at)
         VALUES (?, 1, 'sent', 'c', 0, ?, ?), (?, 1, 'sent', 'c', 0, ?, ?)`,
      ).bind(firstPurged, old, old, `${recent}_0`, old, old),
      env.DB.prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         VALUES (?, ?, NULL, 'invite.accepted', 'invite', ?, '{}', ?)`,
      ).bind(uid("evt_test"), org.id, firstPurged, old),
    ]);

    // A longer retention keeps them all.
    await runExpiryJob({ ...env, INVITE_RETENTION_DAYS: "30" } as Env, now);
    for (const prefix of purged) expect(Object.values(await statusCounts(prefix))).toEqual([2]);

    const run = await runExpiryJob(env, now);
    expect(run.purgedInvites).toBeGreaterThanOrEqual(8);
    for (const prefix of purged) expect(await statusCounts(prefix)).toEqual({});
    expect(await statusCounts(recent)).toEqual({ accepted: 2 });
    expect(await statusCounts(markedLate)).toEqual({ expired: 1 });
    expect(await statusCounts(oldPending)).toEqual({ pending: 1 });

    const deliveries = await env.DB.prepare("SELECT invite_id FROM email_deliveries WHERE invite_id IN (?, ?)")
      .bind(firstPurged, `${recent}_0`)
      .all();
    expect(deliveries.results).toEqual([{ invite_id: `${recent}_0` }]);
    // The audit log keeps the history of what was purged.
    const history = await env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE target_id = ?")
      .bind(firstPurged)
      .first<{ n: number }>();
    expect(history?.n).toBe(1);
  });

  it("deletes webhook ids past the deduplication window and rate-limit windows that have ended", async () => {
    const now = Date.now();
    const oldHook = uid("msg_old");
    const newHook = uid("msg_new");
    const ended = uid("test:rate");
    const current = uid("test:rate");
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO webhook_events (svix_id, event_type, received_at) VALUES (?, 'user.updated', ?)",
      ).bind(oldHook, now - days(8)),
      env.DB.prepare(
        "INSERT INTO webhook_events (svix_id, event_type, received_at) VALUES (?, 'user.updated', ?)",
      ).bind(newHook, now - days(2)),
      env.DB.prepare("INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 3)").bind(ended, now - 2 * HOUR),
      env.DB.prepare("INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 3)").bind(
        current,
        Math.floor(now / HOUR) * HOUR,
      ),
    ]);

    const run = await runExpiryJob(env, now);

    expect(run.purgedWebhookEvents).toBeGreaterThanOrEqual(1);
    expect(run.purgedRateLimits).toBeGreaterThanOrEqual(1);
    const hooks = await env.DB.prepare("SELECT svix_id FROM webhook_events WHERE svix_id IN (?, ?)")
      .bind(oldHook, newHook)
      .all();
    expect(hooks.results).toEqual([{ svix_id: newHook }]);
    const windows = await env.DB.prepare("SELECT key FROM rate_limits WHERE key IN (?, ?)").bind(ended, current).all();
    expect(windows.results).toEqual([{ key: current }]);
  });
});

describe("the scheduled handler", () => {
  it("runs the expiry job for 0 * * * *", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const due = await insertInvites(org.id, 2, { expiresAt: Date.now() - HOUR });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "0 * * * *", scheduledTime: new Date() }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await statusCounts(due)).toEqual({ expired: 2 });
  });

  it("refuses a schedule it does not know (config and code drifted apart)", async () => {
    const ctx = createExecutionContext();
    await expect(
      worker.scheduled(createScheduledController({ cron: "*/7 * * * *", scheduledTime: new Date() }), env, ctx),
    ).rejects.toThrow('No job is scheduled for cron "*/7 * * * *"');
  });
});

describe("a backlog of 50,000 expired invites", () => {
  let orgId: string | null = null;
  afterAll(async () => {
    if (orgId === null) return;
    // Keep the shared database small for the files that run after this one.
    await env.DB.batch([
      env.DB.prepare(
        "DELETE FROM events WHERE event_id IN (SELECT id FROM audit_events WHERE organization_id = ?)",
      ).bind(orgId),
      env.DB.prepare("DELETE FROM audit_events WHERE organization_id = ?").bind(orgId),
      env.DB.prepare("DELETE FROM invites WHERE organization_id = ?").bind(orgId),
    ]);
    // 150,000 rows (each expired invite has an audit row and its outbox row): slow on a busy machine.
  }, 120_000);

  it("is expired, then purged, over a few runs, none over its statement budget, touching nothing else", {
    timeout: 180_000,
  }, async () => {
    const owner = await seedUser();
    const member = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: member.id, role: "manager" }] });
    orgId = org.id;
    const now = Date.now();
    const backlog = await insertInvites(org.id, 50_000, { expiresAt: now - HOUR });
    const pending = await insertInvites(org.id, 10, { expiresAt: now + days(3) });

    const started = performance.now();
    const { runs } = await runUntilComplete(now, EXPIRY_BUDGET, 20);
    const seconds = (performance.now() - started) / 1000;

    for (const run of runs) {
      expect(run.counted.statements).toBe(run.statements);
      expect(run.statements).toBeLessThanOrEqual(EXPIRY_BUDGET.statements);
      expect(run.counted.maxParams).toBeLessThanOrEqual(100);
    }
    // 20,000 rows a run at most: at least three runs.
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(await statusCounts(backlog)).toEqual({ expired: 50_000 });
    expect(await expiredEvents(backlog)).toEqual({ invites: 50_000, maxPerInvite: 1 });
    expect(await statusCounts(pending)).toEqual({ pending: 10 });
    const members = await env.DB.prepare(
      "SELECT user_id, role FROM organization_users WHERE organization_id = ? ORDER BY role",
    )
      .bind(org.id)
      .all();
    expect(members.results).toEqual([
      { user_id: member.id, role: "manager" },
      { user_id: owner.id, role: "owner" },
    ]);

    const expired = runs.reduce((sum, r) => sum + r.expired, 0);
    console.log(
      `[expiry benchmark] ${expired} invites expired (with audit rows) in ${seconds.toFixed(2)}s ` +
        `= ${Math.round(expired / seconds)} rows/s over ${runs.length} runs; statements per run: ` +
        `${runs.map((r) => r.statements).join(", ")}; round trips per run: ${runs.map((r) => r.roundTrips).join(", ")}`,
    );

    // Eight days on, the same 50,000 are past retention: the purge deletes them, in budget too.
    await env.DB.prepare("UPDATE invites SET updated_at = ? WHERE organization_id = ? AND status = 'expired'")
      .bind(now - days(8), org.id)
      .run();
    const purgeStarted = performance.now();
    const purge = await runUntilComplete(now, EXPIRY_BUDGET, 20);
    const purgeSeconds = (performance.now() - purgeStarted) / 1000;
    for (const run of purge.runs) expect(run.counted.statements).toBeLessThanOrEqual(EXPIRY_BUDGET.statements);
    expect(await statusCounts(backlog)).toEqual({});
    expect(await statusCounts(pending)).toEqual({ pending: 10 });
    expect(await expiredEvents(backlog)).toEqual({ invites: 50_000, maxPerInvite: 1 });
    const purgedRows = purge.runs.reduce((sum, r) => sum + r.purgedInvites, 0);
    console.log(
      `[expiry benchmark] ${purgedRows} finished invites purged in ${purgeSeconds.toFixed(2)}s ` +
        `= ${Math.round(purgedRows / purgeSeconds)} rows/s over ${purge.runs.length} runs; statements per run: ` +
        `${purge.runs.map((r) => r.statements).join(", ")}`,
    );
  });
});
