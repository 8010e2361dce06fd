import type { Db } from "../core/db";
import { MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from "../core/retry";
import type { DeliveryContext } from "./deliver";
import type { NotificationEmailMessage } from "./messages";
import { renderNotification } from "./notification-templates";
import { DeliveryError, parseMailbox } from "./providers";

/**
 * Sending one notification email, at most once per event, with the invitation's delivery rules:
 * claim `notification_deliveries` (one round trip, with everything the email says), send, record
 * the outcome — sent (final); a transient error, retried with EMAIL_RETRY_BASE_SECONDS backoff;
 * a permanent one, or the dead-letter queue, failed (final). A redelivered message for a sent
 * event sends nothing. The crash window is the invitation's (see deliver.ts): a duplicate rather
 * than a lost email, with a stable Message-ID and Idempotency-Key per event.
 */

/** Longer than the slowest send, so a live sender is never overtaken (as for invitations). */
const CLAIM_LEASE_MS = 5 * 60_000;

interface NotificationRow {
  event_id: string;
  type: string;
  actor_id: string | null;
  data: string;
  created_at: number;
  organization_name: string | null;
  actor_name: string | null;
  recipient_email: string | null;
  recipient_name: string | null;
  state: "sending" | "sent" | "failed" | null;
  claim_id: string | null;
  lease_until: number | null;
}

export async function deliverNotification(
  ctx: DeliveryContext,
  message: Message<unknown>,
  body: NotificationEmailMessage,
): Promise<void> {
  const label = `[email] notification ${body.eventId} (attempt ${message.attempts})`;
  const retry = (reason: string) => {
    const delaySeconds = retryDelaySeconds(ctx.config.EMAIL_RETRY_BASE_SECONDS, message.attempts);
    console.warn(`${label}: ${reason}; retrying in ${delaySeconds}s`);
    message.retry({ delaySeconds });
  };
  const { db } = ctx;
  const now = Date.now();
  const claimId = crypto.randomUUID();
  let row: NotificationRow | null;
  try {
    row = await claim(db, body, claimId, now);
  } catch (error) {
    retry(`could not claim (${error instanceof Error ? error.message : String(error)})`);
    return;
  }
  if (row === null) {
    console.log(`${label}: no such event, dropped`);
    message.ack();
    return;
  }
  if (row.claim_id !== claimId || row.state !== "sending") {
    if (row.state === "sending") {
      const leaseLeft = Math.ceil(((row.lease_until ?? now) - now) / 1000);
      message.retry({ delaySeconds: Math.max(1, Math.min(leaseLeft, MAX_RETRY_DELAY_SECONDS)) });
    } else {
      console.log(`${label}: already ${row.state ?? "handled"}, nothing sent`);
      message.ack();
    }
    return;
  }

  let providerMessageId: string | null;
  try {
    const rendered = renderNotification(row.type, {
      to: row.recipient_email ?? "",
      recipientName: row.recipient_name,
      organizationName: row.organization_name,
      actorName: row.actor_name,
      data: parseData(row.data),
      at: row.created_at,
      appUrl: ctx.config.APP_URL,
    });
    if (rendered === null) throw new DeliveryError("permanent", `No template for ${row.type}`);
    if (row.recipient_email === null) throw new DeliveryError("permanent", "The user has no known email address");
    const from = parseMailbox(ctx.config.EMAIL_FROM);
    const key = `notification-${row.event_id}`;
    const domain = from.email.slice(from.email.lastIndexOf("@") + 1);
    ({ providerMessageId } = await ctx.provider.send({
      ...rendered,
      from,
      messageId: `<${key}@${domain}>`,
      idempotencyKey: key,
    }));
  } catch (error) {
    const failure =
      error instanceof DeliveryError
        ? error
        : new DeliveryError("transient", error instanceof Error ? error.message : String(error));
    try {
      await record(db, body.eventId, claimId, failure.kind === "permanent" ? "failed" : "sending", failure.message);
    } catch (error) {
      // The claim's lease still ends it; a permanent failure then retries once more.
      console.error(`${label}: could not record the failure:`, error);
      retry(failure.message);
      return;
    }
    if (failure.kind === "permanent") {
      console.error(`${label}: failed permanently, ${failure.message}`);
      message.ack();
    } else {
      retry(failure.message);
    }
    return;
  }
  const sentAt = Date.now();
  const recordSent = () =>
    db.batch([
      db
        .prepare(
          `UPDATE notification_deliveries SET state = 'sent', provider_message_id = ?, last_error = NULL, updated_at = ?
           WHERE event_id = ? AND claim_id = ? AND state = 'sending'`,
        )
        .bind(providerMessageId, sentAt, body.eventId, claimId),
      mirrorOnInvite(db, body.eventId, sentAt),
    ]);
  try {
    await recordSent();
  } catch {
    try {
      // Sent but not recorded: one more try before leaving it to the lease (see the crash window).
      await recordSent();
    } catch (error) {
      console.error(`${label}: sent, but the outcome could not be recorded:`, error);
    }
  }
  console.log(`${label}: sent via ${ctx.provider.name}`);
  message.ack();
}

/**
 * The claim (inserted, or taken over from a holder whose lease ended; 'sent' and 'failed' are
 * never overwritten), counting the attempt, and what the email says, in one batch.
 */
async function claim(
  db: Db,
  body: NotificationEmailMessage,
  claimId: string,
  now: number,
): Promise<NotificationRow | null> {
  const [, read] = await db.batch([
    db
      .prepare(
        `INSERT INTO notification_deliveries (event_id, state, claim_id, lease_until, attempts, created_at, updated_at)
         SELECT id, 'sending', ?, ?, 1, ?, ? FROM audit_events WHERE id = ?
         ON CONFLICT (event_id) DO UPDATE
           SET claim_id = excluded.claim_id, lease_until = excluded.lease_until, attempts = attempts + 1,
               updated_at = excluded.updated_at
           WHERE notification_deliveries.state = 'sending' AND notification_deliveries.lease_until <= excluded.updated_at`,
      )
      .bind(claimId, now + CLAIM_LEASE_MS, now, now, body.eventId),
    db
      .prepare(
        `SELECT a.id AS event_id, a.action AS type, a.actor_id, a.data, a.created_at,
                o.name AS organization_name, actor.name AS actor_name, r.name AS recipient_name,
                COALESCE(
                  (SELECT ue.email FROM user_emails ue WHERE ue.user_id = r.id AND ue.is_primary = 1 AND ue.verified = 1),
                  CASE WHEN r.email LIKE '%@users.invalid' THEN NULL ELSE r.email END
                ) AS recipient_email,
                d.state, d.claim_id, d.lease_until
         FROM audit_events a
         LEFT JOIN organizations o ON o.id = a.organization_id
         LEFT JOIN admins actor ON actor.id = a.actor_id
         LEFT JOIN admins r ON r.id = ?
         LEFT JOIN notification_deliveries d ON d.event_id = a.id
         WHERE a.id = ?`,
      )
      .bind(body.userId, body.eventId),
  ]);
  return (read?.results[0] as NotificationRow | undefined) ?? null;
}

/** Keeps the error; 'failed' ends the delivery, 'sending' releases our claim for the retry. */
async function record(db: Db, eventId: string, claimId: string, state: "sending" | "failed", reason: string) {
  const now = Date.now();
  await db.batch([
    db
      .prepare(
        `UPDATE notification_deliveries SET state = ?, last_error = ?, lease_until = 0, updated_at = ?
         WHERE event_id = ? AND claim_id = ? AND state = 'sending'`,
      )
      .bind(state, reason, now, eventId, claimId),
    mirrorOnInvite(db, eventId, now),
  ]);
}

/**
 * A consent-pending offer is an invite whose first email is this notification: its delivery state
 * (sent, failed, attempts, last error) is copied onto the invite, where an admin reads it in the
 * invite list, as for an email invite. A resend (token version 2 on) is the invite email's again.
 */
function mirrorOnInvite(db: Db, eventId: string, now: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE invites SET delivery_status = CASE d.state WHEN 'sending' THEN invites.delivery_status ELSE d.state END,
              delivery_attempts = d.attempts, delivery_error = d.last_error,
              delivery_sent_at = CASE d.state WHEN 'sent' THEN ? ELSE invites.delivery_sent_at END
       FROM notification_deliveries d JOIN audit_events a ON a.id = d.event_id
       WHERE d.event_id = ? AND a.action = 'invite.created' AND a.target_type = 'invite' AND invites.id = a.target_id
         AND invites.source = 'owner_add' AND invites.token_version = 1`,
    )
    .bind(now, eventId);
}

/** Every retry failed: the notification is marked failed with the last error, once. */
export async function recordNotificationDeadLetter(
  db: Db,
  message: Message<unknown>,
  body: NotificationEmailMessage,
): Promise<void> {
  const now = Date.now();
  try {
    const recordFailed = db
      .prepare(
        `INSERT INTO notification_deliveries (event_id, state, claim_id, lease_until, attempts, last_error, created_at, updated_at)
         VALUES (?, 'failed', '', 0, 0, 'Gave up: no attempt recorded', ?, ?)
         ON CONFLICT (event_id) DO UPDATE SET state = 'failed', lease_until = 0, updated_at = excluded.updated_at,
           last_error = 'Gave up after ' || notification_deliveries.attempts || ' attempt(s): '
             || COALESCE(notification_deliveries.last_error, 'no error recorded')
           WHERE notification_deliveries.state = 'sending'`,
      )
      .bind(body.eventId, now, now);
    await db.batch([recordFailed, mirrorOnInvite(db, body.eventId, now)]);
    console.error(`[email:dlq] notification ${body.eventId}: undeliverable after every retry, marked failed`);
    message.ack();
  } catch (error) {
    console.error(`[email:dlq] notification ${body.eventId}: could not record the failure, retrying:`, error);
    message.retry({ delaySeconds: 30 });
  }
}

function parseData(text: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(text);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}
