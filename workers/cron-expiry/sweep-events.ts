import { getConfig } from "../core/config";
import type { Db } from "../core/db";
import { enqueueEvents } from "../core/events/messages";
import { MAY_NOTIFY } from "../core/events/notifications";
import { prepare, sql } from "../core/sql";

/**
 * The outbox sweep (cron "*\/5 * * * *"): events whose hand-off was lost — the Worker died after
 * the commit, the queue send failed, a write path without RETURNING — are still `pending` and
 * overdue. They are re-enqueued, oldest due first, in chunks. Each chunk's UPDATE first pushes the
 * events' due time to now, so a second sweep running at the same time (cron runs may overlap or
 * repeat) does not pick them again; if the send then fails, the next sweep after the grace does.
 *
 * A lost event is thus sent within GRACE + the 5-minute period (7 minutes; API.md promises 10).
 * With no EVENTS_WEBHOOK_URL, pending events that notify nobody are marked `disabled` (recorded,
 * not sent) and only notifying ones are re-enqueued, for their email.
 */

/** How overdue a pending event must be: longer than a hand-off takes, so the sweep does not race it. */
export const SWEEP_GRACE_MS = 2 * 60_000;

/** Events per chunk: one sendBatch (at most 100 messages) and one UPDATE. */
export const SWEEP_CHUNK = 100;

/** Chunks per run: bounds the run (CPU, subrequests); a larger backlog is finished by the next runs. */
export const SWEEP_MAX_CHUNKS = 20;

export interface SweepRun {
  enqueued: number;
  disabled: number;
  error?: string;
}

export async function runEventSweep(env: Env, now: number): Promise<SweepRun> {
  const config = getConfig(env);
  const run: SweepRun = { enqueued: 0, disabled: 0 };
  const webhooksOn = config.EVENTS_WEBHOOK_URL !== undefined;
  if (!webhooksOn) run.disabled = await disableUnsendable(env.DB, now);
  for (let chunk = 0; chunk < SWEEP_MAX_CHUNKS; chunk++) {
    const ids = await claimOverdue(env.DB, now, webhooksOn);
    if (ids.length === 0) break;
    try {
      await enqueueEvents(env.EVENTS_QUEUE, ids);
    } catch (error) {
      run.error = error instanceof Error ? error.message : String(error);
      break;
    }
    run.enqueued += ids.length;
    if (ids.length < SWEEP_CHUNK) break;
  }
  return run;
}

// Whether an event may notify someone, by its audit row (the rules of core/events/notifications.ts).
const NOTIFYING = sql`EXISTS (SELECT 1 FROM audit_events WHERE audit_events.id = events.event_id AND (${MAY_NOTIFY}))`;

/** One chunk of overdue pending events, made due now; their ids. */
async function claimOverdue(db: Db, now: number, webhooksOn: boolean): Promise<string[]> {
  const onlyNotifying = webhooksOn ? sql`` : sql`AND ${NOTIFYING}`;
  const { results } = await prepare(
    db,
    sql`UPDATE events SET next_attempt_at = ${now}, updated_at = ${now}
        WHERE sequence IN (SELECT sequence FROM events
          WHERE status = 'pending' AND next_attempt_at <= ${now - SWEEP_GRACE_MS} ${onlyNotifying}
          ORDER BY next_attempt_at LIMIT ${SWEEP_CHUNK})
        RETURNING event_id`,
  ).all<{ event_id: string }>();
  return results.map((r) => r.event_id);
}

/** With no URL, pending events that notify nobody will never be sent: say so, in bounded chunks. */
async function disableUnsendable(db: Db, now: number): Promise<number> {
  let total = 0;
  for (let chunk = 0; chunk < SWEEP_MAX_CHUNKS; chunk++) {
    const result = await prepare(
      db,
      sql`UPDATE events SET status = 'disabled', updated_at = ${now}
          WHERE sequence IN (SELECT sequence FROM events
            WHERE status = 'pending' AND NOT (${NOTIFYING}) ORDER BY sequence LIMIT ${SWEEP_CHUNK * 10})`,
    ).run();
    const changed = result.meta.changes ?? 0;
    total += changed;
    if (changed < SWEEP_CHUNK * 10) break;
  }
  return total;
}
