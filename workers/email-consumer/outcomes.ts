import { auditStatement } from "../core/audit";
import type { Db } from "../core/db";
import { prepare, type SQL, sql } from "../core/sql";
import type { InviteRow } from "./deliver";
import type { InviteEmailMessage } from "./messages";

/**
 * The outcome of one send attempt, recorded after the provider answered (step 3 of deliver.ts):
 * sent, a transient failure (the claim released for the retry) or a permanent one (audited).
 */

/** This version has no final outcome yet: outcome writes are guarded by it. */
function stillSending(body: InviteEmailMessage): SQL {
  return sql`EXISTS (SELECT 1 FROM email_deliveries d
    WHERE d.invite_id = ${body.inviteId} AND d.token_version = ${body.tokenVersion} AND d.state = 'sending')`;
}

export function recordSentStatements(
  db: Db,
  body: InviteEmailMessage,
  providerMessageId: string | null,
  clerkInvitationId: string | null,
  now: number,
): D1PreparedStatement[] {
  return [
    prepare(
      db,
      sql`UPDATE invites SET delivery_status = 'sent', delivery_sent_at = ${now}, delivery_error = NULL
          WHERE id = ${body.inviteId} AND token_version = ${body.tokenVersion}`,
    ),
    prepare(
      db,
      sql`UPDATE email_deliveries SET state = 'sent', provider_message_id = ${providerMessageId},
            clerk_invitation_id = ${clerkInvitationId}, updated_at = ${now}
          WHERE invite_id = ${body.inviteId} AND token_version = ${body.tokenVersion} AND state = 'sending'`,
    ),
  ];
}

/** Keeps the error for the inviter's list and releases our claim, so the retry can claim at once. */
export async function recordTransientFailure(
  db: Db,
  body: InviteEmailMessage,
  claimId: string,
  reason: string,
  now: number,
): Promise<void> {
  await db.batch([
    prepare(
      db,
      sql`UPDATE invites SET delivery_error = ${reason}
          WHERE id = ${body.inviteId} AND token_version = ${body.tokenVersion} AND ${stillSending(body)}`,
    ),
    db
      .prepare(
        `UPDATE email_deliveries SET lease_until = 0, updated_at = ?
         WHERE invite_id = ? AND token_version = ? AND claim_id = ? AND state = 'sending'`,
      )
      .bind(now, body.inviteId, body.tokenVersion, claimId),
  ]);
}

/**
 * The recipient or message was refused: no retry can help. The audit row and the invite's state
 * are guarded by the same "still sending" condition, read before the last statement ends it, so
 * a duplicate changes nothing.
 */
export async function recordPermanentFailure(
  db: Db,
  invite: Pick<InviteRow, "id" | "organization_id" | "delivery_attempts">,
  body: InviteEmailMessage,
  reason: string,
  now: number,
): Promise<void> {
  await db.batch([
    auditStatement(
      db,
      {
        organizationId: invite.organization_id,
        actorId: null,
        action: "invite.delivery_failed",
        target: { type: "invite", id: invite.id },
        data: { reason, tokenVersion: body.tokenVersion, attempts: invite.delivery_attempts },
        at: now,
      },
      sql`(SELECT token_version FROM invites WHERE id = ${body.inviteId}) = ${body.tokenVersion} AND ${stillSending(body)}`,
    ),
    prepare(
      db,
      sql`UPDATE invites SET delivery_status = 'failed', delivery_error = ${reason}
          WHERE id = ${body.inviteId} AND token_version = ${body.tokenVersion} AND ${stillSending(body)}`,
    ),
    db
      .prepare(
        `UPDATE email_deliveries SET state = 'failed', lease_until = 0, updated_at = ?
         WHERE invite_id = ? AND token_version = ? AND state = 'sending'`,
      )
      .bind(now, body.inviteId, body.tokenVersion),
  ]);
}
