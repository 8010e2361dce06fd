import { days, getConfig } from "../core/config";
import type { Db } from "../core/db";
import { expireOverdueStatements } from "../core/invites/expire";
import { purgeRateLimitsStatement } from "../core/rate-limit";
import { sql } from "../core/sql";

/**
 * The hourly expiry job: marks pending invites past `expires_at` as expired (audited), then
 * purges what would otherwise grow without bound — finished invites past INVITE_RETENTION_DAYS
 * (with their email_deliveries rows, by cascade), Clerk webhook ids past the deduplication window,
 * and rate-limit windows that have ended.
 *
 * Every step works in chunks of `chunkRows` rows selected by `rowid IN (SELECT rowid … LIMIT n)`
 * (a handful of bound parameters, far below D1's 100), and the run stops when its statement
 * budget is spent: a backlog larger than one run is worked off over the following hours. Running
 * twice, or two runs overlapping, is harmless: each chunk is one D1 batch (one transaction) whose
 * audit insert and status update select the same rows by the same guarded condition, so a row
 * another run already expired is no longer selected and is never audited twice.
 */

export interface ExpiryBudget {
  /** Statements one run may execute. */
  statements: number;
  /** Rows one statement may touch. */
  chunkRows: number;
}

/**
 * Workers on the Free plan may make 50 D1 queries per invocation (1,000 on Paid); 40 statements
 * keeps a run within either, with headroom. 1,000 rows a statement keeps each transaction short
 * (milliseconds: D1 runs one write at a time, and the API's writes wait behind the job's).
 * One run therefore expires up to 20,000 invites (two statements a chunk).
 */
export const EXPIRY_BUDGET: ExpiryBudget = { statements: 40, chunkRows: 1_000 };

/**
 * Svix retries a failed webhook delivery for about three days; a week of svix-ids is enough to
 * recognise any redelivery.
 */
export const WEBHOOK_DEDUP_WINDOW_MS = days(7);

export interface ExpiryRun {
  expired: number;
  purgedInvites: number;
  purgedWebhookEvents: number;
  purgedRateLimits: number;
  /** Statements executed (what the budget counts) and D1 round trips. */
  statements: number;
  roundTrips: number;
  /** False when the budget ran out with work left: the next run continues. */
  complete: boolean;
}

interface Step {
  name: "expired" | "purgedInvites" | "purgedWebhookEvents" | "purgedRateLimits";
  /** Statements in one chunk's batch. */
  cost: number;
  /** Runs one chunk; returns the rows it handled. */
  chunk(db: Db, now: number, rows: number): Promise<number>;
}

const FINISHED = "('accepted', 'declined', 'revoked', 'expired')";

/** Pending invites past their expiry become `expired`, each with an `invite.expired` audit event (no actor). */
const expireStep: Step = {
  name: "expired",
  cost: 2,
  async chunk(db, now, rows) {
    // The rows of one chunk in index order (invites_status_expires: status, expires_at, rowid).
    const [, update] = await db.batch(
      expireOverdueStatements(db, {
        due: sql`SELECT rowid FROM invites WHERE status = 'pending' AND expires_at <= ${now}
                 ORDER BY expires_at, rowid LIMIT ${rows}`,
        now,
        auditIds: rows,
      }),
    );
    return update?.meta.changes ?? 0;
  },
};

/** Finished invites whose last status change is older than the retention; the audit log keeps their history. */
function purgeInvitesStep(retentionMs: number): Step {
  return {
    name: "purgedInvites",
    cost: 1,
    async chunk(db, now, rows) {
      const [result] = await db.batch([
        db
          .prepare(
            `DELETE FROM invites WHERE rowid IN (
               SELECT rowid FROM invites WHERE status IN ${FINISHED} AND updated_at < ? LIMIT ?)`,
          )
          .bind(now - retentionMs, rows),
      ]);
      return result?.meta.changes ?? 0;
    },
  };
}

const purgeWebhookEventsStep: Step = {
  name: "purgedWebhookEvents",
  cost: 1,
  async chunk(db, now, rows) {
    const [result] = await db.batch([
      db
        .prepare(
          `DELETE FROM webhook_events WHERE rowid IN (
             SELECT rowid FROM webhook_events WHERE received_at < ? LIMIT ?)`,
        )
        .bind(now - WEBHOOK_DEDUP_WINDOW_MS, rows),
    ]);
    return result?.meta.changes ?? 0;
  },
};

const purgeRateLimitsStep: Step = {
  name: "purgedRateLimits",
  cost: 1,
  async chunk(db, now, rows) {
    const [result] = await db.batch([purgeRateLimitsStatement(db, now, rows)]);
    return result?.meta.changes ?? 0;
  },
};

/**
 * One run of the job, within `budget`. `env.DB` is used as given (tests and the benchmark pass a
 * wrapped binding to count statements); INVITE_RETENTION_DAYS comes from the configuration.
 */
export async function runExpiryJob(env: Env, now: number, budget: ExpiryBudget = EXPIRY_BUDGET): Promise<ExpiryRun> {
  const retentionMs = days(getConfig(env).INVITE_RETENTION_DAYS);
  const steps = [expireStep, purgeInvitesStep(retentionMs), purgeWebhookEventsStep, purgeRateLimitsStep];
  const run: ExpiryRun = {
    expired: 0,
    purgedInvites: 0,
    purgedWebhookEvents: 0,
    purgedRateLimits: 0,
    statements: 0,
    roundTrips: 0,
    complete: true,
  };
  for (const step of steps) {
    let done = false;
    while (!done && run.statements + step.cost <= budget.statements) {
      const handled = await step.chunk(env.DB, now, budget.chunkRows);
      run.statements += step.cost;
      run.roundTrips += 1;
      run[step.name] += handled;
      // A short chunk means nothing is left for this step.
      done = handled < budget.chunkRows;
    }
    if (!done) {
      run.complete = false;
      break;
    }
  }
  return run;
}
