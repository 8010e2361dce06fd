import { assertCanGrant, authorizeManagedInvite } from "../access";
import { auditRowsStatement } from "../audit";
import { changes, type Db } from "../db";
import { managesInvite } from "../guards";
import { newId } from "../ids";
import { prepare, sql } from "../sql";
import { finishedInviteError, type ManagedInviteRow, managedInviteStatement } from "./scope";

/**
 * Revoke: a pending (or expired) invite becomes revoked; its link stops working. Idempotent: an
 * already revoked invite answers the same, and the `invite.revoked` audit event is written once.
 * Like resend, only a caller who may grant the invite's role revokes it (403 ROLE_ABOVE_OWN).
 * Accepted → 409 INVITE_ALREADY_ACCEPTED (remove the member instead); declined → 410.
 *
 * One round trip: one batch whose first statement reads the invite and the caller's roles (what
 * names a refusal); the audit row and the UPDATE after it are guarded by the whole condition in
 * SQL — the caller still manages the invite and may grant its role, and it is pending or expired —
 * so a caller removed or demoted before the batch runs neither revokes nor becomes the audit actor.
 */
export async function revokeInvite(db: Db, input: { inviteId: string; userId: string; now: number }): Promise<void> {
  const { inviteId, userId, now } = input;
  const go = sql`EXISTS (SELECT 1 FROM invites i
      JOIN organization_users ou ON ou.organization_id = i.organization_id AND ou.user_id = ${userId}
      LEFT JOIN project_admins pa ON pa.project_id = i.project_id AND pa.admin_id = ${userId}
      WHERE i.id = ${inviteId} AND i.status IN ('pending', 'expired') AND ${managesInvite("invites:revoke")})`;
  const results = await db.batch([
    managedInviteStatement(db, inviteId, userId),
    auditRowsStatement(db, [
      {
        action: "invite.revoked",
        targetType: "invite",
        id: newId("auditEvent"),
        organizationId: sql`r.organization_id`,
        actorId: userId,
        targetId: sql`r.id`,
        data: sql`json_object('email', r.email,
                              'fromStatus', CASE WHEN r.status = 'pending' AND r.expires_at <= ${now} THEN 'expired' ELSE r.status END)`,
        at: now,
        from: sql`FROM invites r WHERE r.id = ${inviteId} AND ${go}`,
      },
    ]),
    prepare(db, sql`UPDATE invites SET status = 'revoked', updated_at = ${now} WHERE id = ${inviteId} AND ${go}`),
  ]);
  const row = authorizeManagedInvite(results[0]?.results[0] as ManagedInviteRow | undefined, "invites:revoke");
  assertCanGrant(row.caller_org_role, row.role, "revoke an invite at");
  if (changes(results[2] as D1Result) === 1 || row.status === "revoked") return;
  throw finishedInviteError(row.status);
}
