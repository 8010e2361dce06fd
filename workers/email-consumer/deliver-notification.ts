import type { Config } from "../core/config";
import type { Db } from "../core/db";
import type { OrgRole } from "../core/roles";
import type { DeliveryContext } from "./deliver";
import { CLAIM_LEASE_MS, MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from "./deliver";
import { type JoinRequestDecidedMessage, notificationKey } from "./messages-notifications";
import { DeliveryError, type OutgoingEmail, parseMailbox } from "./providers";
import { renderJoinRequestDecision } from "./template-notifications";

/**
 * Sending a join request's decision to its requester, at most once per (request, decision), with
 * the invite emails' protocol (see deliver.ts): claim the key in `notification_deliveries` with a
 * lease (only while the request still has that status), send, record the outcome. Transient
 * failures release the claim and retry with backoff; a permanent one, or the dead-letter queue,
 * records `failed`. A redelivered message finds the key sent and is dropped.
 */
const PRODUCT_NAME = "Roster";

interface DecisionRow {
  request_id: string;
  status: string;
  role: OrgRole | null;
  organization_name: string;
  email: string | null;
  state: "sending" | "sent" | "failed" | null;
  claim_id: string | null;
  lease_until: number | null;
}

export async function deliverNotificationMessage(
  ctx: DeliveryContext,
  message: Message<unknown>,
  body: JoinRequestDecidedMessage,
): Promise<void> {
  const key = notificationKey(body);
  const label = `[email] ${key} (attempt ${message.attempts})`;
  try {
    const outcome = await deliver(ctx, body, key);
    if (outcome.kind === "retry") {
      const delaySeconds = Math.min(
        Math.max(retryDelaySeconds(ctx.config.EMAIL_RETRY_BASE_SECONDS, message.attempts), outcome.retryAfter ?? 0),
        MAX_RETRY_DELAY_SECONDS,
      );
      console.warn(`${label}: ${outcome.reason}; retrying in ${delaySeconds}s`);
      message.retry({ delaySeconds });
    } else if (outcome.kind === "busy") {
      message.retry({ delaySeconds: outcome.delaySeconds });
    } else {
      console.log(`${label}: ${outcome.kind}${"reason" in outcome ? `, ${outcome.reason}` : ""}`);
      message.ack();
    }
  } catch (error) {
    const delaySeconds = retryDelaySeconds(ctx.config.EMAIL_RETRY_BASE_SECONDS, message.attempts);
    console.error(`${label}: unexpected error, retrying in ${delaySeconds}s:`, error);
    message.retry({ delaySeconds });
  }
}

type Outcome =
  | { kind: "sent" }
  | { kind: "dropped"; reason: string }
  | { kind: "busy"; delaySeconds: number }
  | { kind: "failed"; reason: string }
  | { kind: "retry"; reason: string; retryAfter: number | null };

async function deliver(ctx: DeliveryContext, body: JoinRequestDecidedMessage, key: string): Promise<Outcome> {
  const { db } = ctx;
  const now = Date.now();
  const claimId = crypto.randomUUID();
  const [, read] = await db.batch([
    db
      .prepare(
        `INSERT INTO notification_deliveries (key, state, claim_id, lease_until, attempts, created_at, updated_at)
         SELECT ?, 'sending', ?, ?, 1, ?, ? FROM join_requests WHERE id = ? AND status = ?
         ON CONFLICT (key) DO UPDATE
           SET claim_id = excluded.claim_id, lease_until = excluded.lease_until, updated_at = excluded.updated_at,
               attempts = notification_deliveries.attempts + 1
           WHERE notification_deliveries.state = 'sending' AND notification_deliveries.lease_until <= excluded.updated_at`,
      )
      .bind(key, claimId, now + CLAIM_LEASE_MS, now, now, body.requestId, body.status),
    db
      .prepare(
        `SELECT r.id AS request_id, r.status, r.role, o.name AS organization_name,
                (SELECT ue.email FROM user_emails ue WHERE ue.user_id = r.user_id AND ue.verified = 1
                 ORDER BY ue.is_primary DESC, ue.email LIMIT 1) AS email,
                d.state, d.claim_id, d.lease_until
         FROM join_requests r JOIN organizations o ON o.id = r.organization_id
         LEFT JOIN notification_deliveries d ON d.key = ?
         WHERE r.id = ?`,
      )
      .bind(key, body.requestId),
  ]);
  const row = (read?.results[0] as DecisionRow | undefined) ?? null;
  if (row === null) return { kind: "dropped", reason: "the join request no longer exists" };
  if (row.claim_id !== claimId || row.state !== "sending") {
    if (row.status !== body.status) return { kind: "dropped", reason: `the request is ${row.status}` };
    if (row.state === "sent") return { kind: "dropped", reason: "already sent (a redelivered message)" };
    if (row.state === "failed") return { kind: "dropped", reason: "its delivery already failed" };
    const leaseLeft = Math.ceil(((row.lease_until ?? now) - now) / 1000);
    return { kind: "busy", delaySeconds: Math.max(1, Math.min(leaseLeft, MAX_RETRY_DELAY_SECONDS)) };
  }
  if (row.email === null) {
    await record(db, key, "failed", "the requester has no verified address", null);
    return { kind: "failed", reason: "the requester has no verified address" };
  }
  let providerMessageId: string | null;
  try {
    ({ providerMessageId } = await ctx.provider.send(compose(ctx.config, row, body, key)));
  } catch (error) {
    const failure =
      error instanceof DeliveryError
        ? error
        : new DeliveryError("transient", error instanceof Error ? error.message : String(error));
    if (failure.kind === "permanent") {
      await record(db, key, "failed", failure.message, null);
      return { kind: "failed", reason: failure.message };
    }
    // Keep the error and release our claim, so the retry can claim at once.
    await db
      .prepare(
        `UPDATE notification_deliveries SET last_error = ?, lease_until = 0, updated_at = ?
         WHERE key = ? AND claim_id = ? AND state = 'sending'`,
      )
      .bind(failure.message, Date.now(), key, claimId)
      .run();
    return { kind: "retry", reason: failure.message, retryAfter: failure.retryAfterSeconds };
  }
  await record(db, key, "sent", null, providerMessageId);
  return { kind: "sent" };
}

function compose(config: Config, row: DecisionRow, body: JoinRequestDecidedMessage, key: string): OutgoingEmail {
  const from = parseMailbox(config.EMAIL_FROM);
  const rendered = renderJoinRequestDecision({
    email: row.email ?? "",
    organizationName: row.organization_name,
    status: body.status,
    role: row.role,
    appUrl: config.APP_URL,
    productName: PRODUCT_NAME,
  });
  const domain = from.email.slice(from.email.lastIndexOf("@") + 1);
  const id = key.replaceAll(":", "-");
  return { ...rendered, from, messageId: `<${id}@${domain}>`, idempotencyKey: id };
}

/** A final outcome, written only over a live claim: 'sent' and 'failed' are never overwritten. */
async function record(
  db: Db,
  key: string,
  state: "sent" | "failed",
  error: string | null,
  providerMessageId: string | null,
): Promise<void> {
  await db
    .prepare(
      `UPDATE notification_deliveries SET state = ?, last_error = ?, provider_message_id = ?, lease_until = 0, updated_at = ?
       WHERE key = ? AND state = 'sending'`,
    )
    .bind(state, error, providerMessageId, Date.now(), key)
    .run();
}

/** A notice in the dead-letter queue: every retry failed. Recorded as failed, once. */
export async function recordNotificationDeadLetter(
  db: Db,
  message: Message<unknown>,
  body: JoinRequestDecidedMessage,
): Promise<void> {
  const key = notificationKey(body);
  const now = Date.now();
  try {
    await db
      .prepare(
        `INSERT INTO notification_deliveries (key, state, claim_id, lease_until, attempts, last_error, created_at, updated_at)
         VALUES (?, 'failed', '', 0, 0, 'Gave up after every retry', ?, ?)
         ON CONFLICT (key) DO UPDATE SET state = 'failed', lease_until = 0, updated_at = excluded.updated_at,
           last_error = 'Gave up after every retry: ' || COALESCE(notification_deliveries.last_error, 'no error recorded')
           WHERE notification_deliveries.state = 'sending'`,
      )
      .bind(key, now, now)
      .run();
    console.error(`[email:dlq] ${key}: undeliverable after every retry, marked failed`);
    message.ack();
  } catch (error) {
    console.error(`[email:dlq] ${key}: could not record the failure, retrying:`, error);
    message.retry({ delaySeconds: 30 });
  }
}
