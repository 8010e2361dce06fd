import { auditRowsStatement } from "../audit";
import { changes, type Db } from "../db";
import { ApiError } from "../errors";
import { newId } from "../ids";
import { prepare, sql } from "../sql";
import { diagnosisColumns, type InviteDiagnosis, refusal, verifiedMatch } from "./refusal";

/**
 * Declining (the banner path, by id): the invite becomes declined. Requires a verified address
 * equal to the invite's (declining is final, so an unverified claim to an address is not enough).
 * Idempotent: declining a declined invite again is a no-op. One round trip: the diagnosis (what
 * names a refusal), then the audit row and the UPDATE, both guarded by the same condition.
 */
export async function declineInvite(db: Db, input: { inviteId: string; userId: string; now: number }): Promise<void> {
  const { inviteId, userId, now } = input;
  const cond = sql`i.id = ${inviteId} AND i.status = 'pending' AND i.expires_at > ${now} AND ${verifiedMatch(userId)}`;
  const results = await db.batch([
    prepare(
      db,
      sql`SELECT i.id, i.status, i.expires_at, ${diagnosisColumns(userId)}
          FROM invites i JOIN organizations o ON o.id = i.organization_id
          WHERE i.id = ${inviteId}`,
    ),
    auditRowsStatement(db, [
      {
        action: "invite.declined",
        targetType: "invite",
        id: newId("auditEvent"),
        organizationId: sql`i.organization_id`,
        actorId: userId,
        targetId: sql`i.id`,
        data: sql`json_object('email', i.email, 'projectId', i.project_id)`,
        at: now,
        from: sql`FROM invites i WHERE ${cond}`,
      },
    ]),
    prepare(
      db,
      sql`UPDATE invites SET status = 'declined', updated_at = ${now} WHERE id IN (SELECT i.id FROM invites i WHERE ${cond})`,
    ),
  ]);
  if (changes(results[2] as D1Result) === 1) return;
  const d = results[0]?.results[0] as InviteDiagnosis | undefined;
  if (d !== undefined && d.any_match === 1 && d.status === "declined") return;
  throw refusal(d, true, now) ?? new ApiError("CONFLICT", "The invite changed meanwhile; try again.");
}
