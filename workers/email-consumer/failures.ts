import { auditRowsStatement } from "../core/audit";
import type { Db } from "../core/db";
import { newId } from "../core/ids";
import { prepare, sql } from "../core/sql";
import { describeInvalidMessage, emailMessageSchema } from "./messages";
import { recordNotificationDeadLetter } from "./notifications";

/** Delivery failures recorded outside a send attempt: a broken configuration, a dead letter. */

/**
 * The Worker's configuration does not parse, so no email can be built: keeps the reason on each
 * message's invite (what an admin sees in the invite list) before the messages are retried.
 */
export async function recordConfigurationError(
  db: Db,
  messages: readonly Message<unknown>[],
  reason: string,
): Promise<void> {
  const bodies = messages.flatMap((m) => {
    const parsed = emailMessageSchema.safeParse(m.body);
    return parsed.success && parsed.data.type === "invite" ? [parsed.data] : [];
  });
  if (bodies.length === 0) return;
  await db.batch(
    bodies.map((body) =>
      db
        .prepare(
          `UPDATE invites SET delivery_error = ?
           WHERE id = ? AND token_version = ? AND status = 'pending' AND NOT EXISTS (SELECT 1 FROM email_deliveries d
             WHERE d.invite_id = invites.id AND d.token_version = invites.token_version AND d.state IN ('sent', 'failed'))`,
        )
        .bind(reason, body.inviteId, body.tokenVersion),
    ),
  );
}

/**
 * A message of the dead-letter queue: every retry failed. Records the invite's delivery as failed
 * with the last error, and audits it — once: both statements are guarded by "no final outcome
 * recorded for this version yet", which the last statement then records.
 */
export async function recordDeadLetter(db: Db, message: Message<unknown>): Promise<void> {
  const parsed = emailMessageSchema.safeParse(message.body);
  if (!parsed.success) {
    console.error(`[email:dlq] message ${message.id}: malformed, dropped (${describeInvalidMessage(parsed.error)})`);
    message.ack();
    return;
  }
  if (parsed.data.type === "notification") return await recordNotificationDeadLetter(db, message, parsed.data);
  const { inviteId, tokenVersion } = parsed.data;
  const now = Date.now();
  const noOutcome = sql`NOT EXISTS (SELECT 1 FROM email_deliveries d
    WHERE d.invite_id = ${inviteId} AND d.token_version = ${tokenVersion} AND d.state IN ('sent', 'failed'))`;
  const reason = sql`'Gave up after ' || delivery_attempts || ' attempt(s): ' || COALESCE(delivery_error, 'no error recorded')`;
  try {
    await db.batch([
      auditRowsStatement(db, [
        {
          action: "invite.delivery_failed",
          targetType: "invite",
          id: newId("auditEvent"),
          organizationId: sql`organization_id`,
          actorId: null,
          targetId: sql`id`,
          data: sql`json_object('reason', ${reason}, 'tokenVersion', token_version, 'attempts', delivery_attempts)`,
          at: now,
          from: sql`FROM invites WHERE id = ${inviteId} AND token_version = ${tokenVersion} AND ${noOutcome}`,
        },
      ]),
      prepare(
        db,
        sql`UPDATE invites SET delivery_status = 'failed', delivery_error = ${reason}
            WHERE id = ${inviteId} AND token_version = ${tokenVersion} AND ${noOutcome}`,
      ),
      db
        .prepare(
          `INSERT INTO email_deliveries (invite_id, token_version, state, claim_id, lease_until, created_at, updated_at)
           SELECT id, token_version, 'failed', '', 0, ?, ? FROM invites WHERE id = ? AND token_version = ?
           ON CONFLICT (invite_id, token_version) DO UPDATE SET state = 'failed', lease_until = 0,
             updated_at = excluded.updated_at
             WHERE email_deliveries.state = 'sending'`,
        )
        .bind(now, now, inviteId, tokenVersion),
    ]);
    console.error(`[email:dlq] invite ${inviteId} v${tokenVersion}: undeliverable after every retry, marked failed`);
    message.ack();
  } catch (error) {
    console.error(`[email:dlq] invite ${inviteId} v${tokenVersion}: could not record the failure, retrying:`, error);
    message.retry({ delaySeconds: 30 });
  }
}
