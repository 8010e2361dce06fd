import { Webhook } from "svix";
import type { Config } from "../core/config";
import type { Db } from "../core/db";
import { EVENT_COLUMNS, EVENTS_WITH_FACTS, type EventRow, toEvent } from "../core/events/event";
import { eventMessageSchema } from "../core/events/messages";
import { notificationRecipient, notifies } from "../core/events/notifications";
import { MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from "../core/retry";
import { prepare, sql } from "../core/sql";

/**
 * Delivering one event, driven from its stored row (STYLE.md habit 14):
 *
 * 1. One round trip: claim the event (only while it is `pending` and nobody holds a live claim,
 *    counting the attempt) and read it.
 * 2. If it notifies someone (core/events/notifications.ts), hand the notification to EMAIL_QUEUE (once: `notified_at`).
 * 3. POST it to EVENTS_WEBHOOK_URL, signed with the Standard Webhooks scheme by svix's signer.
 * 4. One round trip: record the outcome, guarded by our claim — sent (final), or the error and the
 *    next attempt, or failed after EVENT_MAX_ATTEMPTS deliveries of this message.
 *
 * A redelivered message for a sent or failed event claims nothing and sends nothing. The crash
 * window (after the receiver answered 2xx, before step 4) is left to the lease: the event is sent
 * again, which receivers absorb by deduplicating on `webhook-id`.
 */

/** Deliveries of one queue message before the event is marked failed (API.md: at least 5). */
export const EVENT_MAX_ATTEMPTS = 5;

/** A receiver that has not answered in this time is a failed attempt (API.md: 10 s). */
export const SEND_TIMEOUT_MS = 10_000;

/** How long a claim is held: well over a send (bounded by SEND_TIMEOUT_MS), so a live sender is never overtaken. */
export const CLAIM_LEASE_MS = 60_000;

export interface EventDeliveryContext {
  db: Db;
  config: Config;
  emailQueue: Queue;
}

interface ClaimedRow extends EventRow {
  claim_id: string | null;
  lease_until: number;
  notified_at: number | null;
}

type Outcome =
  | { kind: "done"; note: string }
  | { kind: "busy"; delaySeconds: number }
  | { kind: "retry"; reason: string; delaySeconds: number }
  | { kind: "failed"; reason: string };

/** Handles one message of the events queue: acks it or schedules its retry, never throws. */
export async function deliverEventMessage(ctx: EventDeliveryContext, message: Message<unknown>): Promise<void> {
  const parsed = eventMessageSchema.safeParse(message.body);
  if (!parsed.success) {
    console.error(`[events] message ${message.id}: malformed, dropped`);
    message.ack();
    return;
  }
  const { eventId } = parsed.data;
  const label = `[events] ${eventId} (attempt ${message.attempts})`;
  try {
    const outcome = await deliver(ctx, eventId, message.attempts);
    switch (outcome.kind) {
      case "done":
        console.log(`${label}: ${outcome.note}`);
        message.ack();
        return;
      case "failed":
        console.error(`${label}: failed, ${outcome.reason}`);
        message.ack();
        return;
      case "busy":
        message.retry({ delaySeconds: outcome.delaySeconds });
        return;
      case "retry":
        console.warn(`${label}: ${outcome.reason}; retrying in ${outcome.delaySeconds}s`);
        message.retry({ delaySeconds: outcome.delaySeconds });
        return;
    }
  } catch (error) {
    // D1 or the email queue unavailable, a bug: retry rather than lose the event.
    const delaySeconds = retryDelaySeconds(ctx.config.EVENTS_RETRY_BASE_SECONDS, message.attempts);
    console.error(`${label}: unexpected error, retrying in ${delaySeconds}s:`, error);
    message.retry({ delaySeconds });
  }
}

async function deliver(ctx: EventDeliveryContext, eventId: string, messageAttempts: number): Promise<Outcome> {
  const { db, config } = ctx;
  const url = config.EVENTS_WEBHOOK_URL;
  const now = Date.now();
  const claimId = crypto.randomUUID();
  const read = prepare(
    db,
    sql`SELECT ${EVENT_COLUMNS}, e.claim_id, e.lease_until, e.notified_at FROM ${EVENTS_WITH_FACTS}
        WHERE e.event_id = ${eventId}`,
  );
  const results = await db.batch(
    url === undefined
      ? [read]
      : [
          prepare(
            db,
            sql`UPDATE events SET claim_id = ${claimId}, lease_until = ${now + CLAIM_LEASE_MS},
                       next_attempt_at = ${now + CLAIM_LEASE_MS}, attempts = attempts + 1, updated_at = ${now}
                WHERE event_id = ${eventId} AND status = 'pending' AND lease_until <= ${now}`,
          ),
          read,
        ],
  );
  const row = (results[results.length - 1]?.results[0] as ClaimedRow | undefined) ?? null;
  if (row === null) return { kind: "done", note: "no such event, dropped" };

  const notifiedAt = await notify(ctx, row, now);

  if (url === undefined) {
    // Recorded, not sent: nothing will POST it unless an operator redelivers it with a URL set.
    await db
      .prepare(
        `UPDATE events SET status = CASE WHEN status = 'pending' THEN 'disabled' ELSE status END,
                notified_at = COALESCE(notified_at, ?), updated_at = ? WHERE event_id = ?`,
      )
      .bind(notifiedAt, now, eventId)
      .run();
    return { kind: "done", note: "no EVENTS_WEBHOOK_URL, recorded as disabled" };
  }

  if (row.claim_id !== claimId || row.status !== "pending") {
    if (notifiedAt !== null) await markNotified(db, eventId, notifiedAt);
    if (row.status !== "pending") return { kind: "done", note: `already ${row.status}, nothing sent` };
    const leaseLeft = Math.ceil((row.lease_until - now) / 1000);
    return { kind: "busy", delaySeconds: Math.max(1, Math.min(leaseLeft, MAX_RETRY_DELAY_SECONDS)) };
  }

  const failure = await post(url, config.EVENTS_WEBHOOK_SECRET ?? "", row);
  const at = Date.now();
  if (failure === null) {
    await db
      .prepare(
        `UPDATE events SET status = 'sent', sent_at = ?, last_error = NULL, claim_id = NULL, lease_until = 0,
                notified_at = COALESCE(notified_at, ?), updated_at = ?
         WHERE event_id = ? AND claim_id = ? AND status = 'pending'`,
      )
      .bind(at, notifiedAt, at, eventId, claimId)
      .run();
    return { kind: "done", note: "sent" };
  }
  if (messageAttempts >= EVENT_MAX_ATTEMPTS) {
    await db
      .prepare(
        `UPDATE events SET status = 'failed', last_error = ?, claim_id = NULL, lease_until = 0,
                notified_at = COALESCE(notified_at, ?), updated_at = ?
         WHERE event_id = ? AND claim_id = ? AND status = 'pending'`,
      )
      .bind(failure, notifiedAt, at, eventId, claimId)
      .run();
    return { kind: "failed", reason: failure };
  }
  const delaySeconds = retryDelaySeconds(config.EVENTS_RETRY_BASE_SECONDS, messageAttempts);
  // The claim is released for the retry, and the event is due when the retry is: the sweep leaves
  // it to this message's retries unless they stop coming.
  await db
    .prepare(
      `UPDATE events SET last_error = ?, next_attempt_at = ?, claim_id = NULL, lease_until = 0,
              notified_at = COALESCE(notified_at, ?), updated_at = ?
       WHERE event_id = ? AND claim_id = ? AND status = 'pending'`,
    )
    .bind(failure, at + delaySeconds * 1000, notifiedAt, at, eventId, claimId)
    .run();
  return { kind: "retry", reason: failure, delaySeconds };
}

/**
 * Hands the event's notification email to EMAIL_QUEUE when its type has one and it was not handed
 * off before; returns when it did (to record as `notified_at`), else null. The email consumer
 * sends at most one email per event, so a repeat after a crash sends nothing twice.
 */
async function notify(ctx: EventDeliveryContext, row: ClaimedRow, now: number): Promise<number | null> {
  if (row.notified_at !== null || !notifies(row.type)) return null;
  const event = toEvent(row);
  const userId = notificationRecipient({
    type: row.type,
    actorId: row.actor_id,
    targetType: row.target_type,
    targetId: row.target_id,
    data: event.data,
  });
  // Judged once: nobody to tell (e.g. a change the member made themselves) is recorded too.
  if (userId !== null) await ctx.emailQueue.send({ type: "notification", eventId: row.event_id, userId });
  return now;
}

async function markNotified(db: Db, eventId: string, at: number): Promise<void> {
  await db
    .prepare("UPDATE events SET notified_at = COALESCE(notified_at, ?) WHERE event_id = ?")
    .bind(at, eventId)
    .run();
}

/** POSTs the event; null on a 2xx, else why the attempt failed. */
async function post(url: string, secret: string, row: EventRow): Promise<string | null> {
  const body = JSON.stringify(toEvent(row));
  const timestamp = new Date();
  const signature = new Webhook(secret).sign(row.event_id, timestamp, body);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "Roster-Events/1",
        "webhook-id": row.event_id,
        "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok ? null : `The receiver answered HTTP ${response.status}`;
  } catch (error) {
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
      return `The receiver did not answer within ${SEND_TIMEOUT_MS / 1000} s`;
    }
    return `Could not reach the receiver: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * A message of the dead-letter queue: its handling kept crashing. The event is marked failed with
 * the reason, once (guarded by `pending`); an operator can redeliver it.
 */
export async function recordEventDeadLetter(db: Db, message: Message<unknown>): Promise<void> {
  const parsed = eventMessageSchema.safeParse(message.body);
  if (!parsed.success) {
    message.ack();
    return;
  }
  const now = Date.now();
  try {
    await db
      .prepare(
        `UPDATE events SET status = 'failed', claim_id = NULL, lease_until = 0, updated_at = ?,
                last_error = 'Gave up after ' || attempts || ' attempt(s): ' || COALESCE(last_error, 'the consumer kept failing')
         WHERE event_id = ? AND status = 'pending'`,
      )
      .bind(now, parsed.data.eventId)
      .run();
    console.error(`[events:dlq] ${parsed.data.eventId}: undeliverable, marked failed`);
    message.ack();
  } catch (error) {
    console.error(`[events:dlq] ${parsed.data.eventId}: could not record the failure, retrying:`, error);
    message.retry({ delaySeconds: 30 });
  }
}
