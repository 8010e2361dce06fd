import { assertCanGrant, authorizeManagedInvite } from "../access";
import { auditRowsStatement } from "../audit";
import { changes, type Db, iso, isUniqueViolation } from "../db";
import { ApiError } from "../errors";
import { managesInvite } from "../guards";
import { newId } from "../ids";
import {
  assertWithinLimit,
  HOUR_MS,
  inviteOrgKeySql,
  inviteUserKey,
  inviteWindows,
  rateCountSql,
  rateCounts,
} from "../rate-limit";
import { prepare, sql } from "../sql";
import { generateToken, sha256Hex } from "../tokens";
import { expireOverdueStatements } from "./expire";
import { enqueueInviteEmails, type InviteQueue, markDeliveryFailed } from "./queue";
import {
  alreadyPendingError,
  DAY_MS,
  finishedInviteError,
  type ManagedInviteRow,
  managedInviteStatement,
} from "./scope";
import { type Invite, toInvite } from "./views";

/**
 * Resend: a new token (the old link dies with its hash), token_version + 1, a new expiry, delivery
 * reset to queued, and the email queued again. Allowed for pending and expired invites (expired
 * becomes pending again); accepted → 409 INVITE_ALREADY_ACCEPTED, declined / revoked → 410.
 * Counts against the invite rate limit (it sends an email). A resend re-grants the invite's role,
 * so the caller must be allowed to grant it (ROLE_ABOVE_OWN otherwise), and becomes the invite's
 * inviter: the email names them and acceptance re-checks their role (so an admin can revive an
 * invite whose original inviter has since been demoted).
 *
 * One round trip: one batch whose first statement reads the invite, the caller's roles, any other
 * pending invite for the address and the rate counts (what explains a refusal); every write after
 * it is guarded by the whole condition in SQL (`go`): the caller may resend at the invite's role,
 * the invite is pending or expired, no other unexpired pending invite for the address, and both
 * rate windows have room. So a refused resend writes nothing, and the JS checks on the first
 * row name the error. The counters are incremented only when the UPDATE stored this request's
 * token hash.
 */
export async function resendInvite(
  db: Db,
  queue: InviteQueue,
  input: { inviteId: string; userId: string; now: number; ttlDays: number; ratePerHour: number },
): Promise<Invite> {
  const { inviteId, userId, now } = input;
  const hourStart = Math.floor(now / HOUR_MS) * HOUR_MS;
  const userKey = inviteUserKey(userId);
  const token = generateToken();
  const hash = await sha256Hex(token);
  const expiresAt = now + input.ttlDays * DAY_MS;
  const sameAddress = sql`o.id <> i.id AND o.status = 'pending' AND o.email = i.email
    AND o.organization_id = i.organization_id AND COALESCE(o.project_id, '') = COALESCE(i.project_id, '')`;
  const orgCount = rateCountSql(inviteOrgKeySql(sql`i.organization_id`), hourStart);
  const userCount = rateCountSql(userKey, hourStart);
  const go = sql`EXISTS (SELECT 1 FROM invites i
      JOIN organization_users ou ON ou.organization_id = i.organization_id AND ou.user_id = ${userId}
      LEFT JOIN project_admins pa ON pa.project_id = i.project_id AND pa.admin_id = ${userId}
      WHERE i.id = ${inviteId} AND i.status IN ('pending', 'expired') AND ${managesInvite("invites:resend")}
        AND NOT EXISTS (SELECT 1 FROM invites o WHERE ${sameAddress} AND o.expires_at > ${now})
        AND ${orgCount} + 1 <= ${input.ratePerHour} AND ${userCount} + 1 <= ${input.ratePerHour})`;
  let results: D1Result[];
  try {
    results = await db.batch([
      managedInviteStatement(
        db,
        inviteId,
        userId,
        sql`, (SELECT name FROM admins WHERE id = ${userId}) AS caller_name,
              (SELECT max(o.expires_at) FROM invites o WHERE ${sameAddress}) AS other_expires_at,
              ${orgCount} AS org_count, ${userCount} AS user_count`,
      ),
      // Another pending invite for the address past its expiry (possible once this one expired):
      // expired first, so this one can become pending. The one-pending index allows one at most.
      ...expireOverdueStatements(db, {
        due: sql`SELECT o.rowid FROM invites i JOIN invites o ON ${sameAddress} AND o.expires_at <= ${now}
                 WHERE i.id = ${inviteId}`,
        now,
        guard: go,
        auditIds: 1,
      }),
      auditRowsStatement(db, [
        {
          action: "invite.resent",
          targetType: "invite",
          id: newId("auditEvent"),
          organizationId: sql`r.organization_id`,
          actorId: userId,
          targetId: sql`r.id`,
          data: sql`json_object('email', r.email,
                                'fromStatus', CASE WHEN r.status = 'pending' AND r.expires_at <= ${now} THEN 'expired' ELSE r.status END,
                                'tokenVersion', r.token_version + 1, 'previousInviter', r.invited_by,
                                'expiresAt', ${iso(expiresAt)})`,
          at: now,
          from: sql`FROM invites r WHERE r.id = ${inviteId} AND ${go}`,
        },
      ]),
      prepare(
        db,
        sql`UPDATE invites SET status = 'pending', token_hash = ${hash}, token_version = token_version + 1,
                   expires_at = ${expiresAt}, invited_by = ${userId}, updated_at = ${now}, delivery_status = 'queued',
                   delivery_attempts = 0, delivery_error = NULL, delivery_sent_at = NULL
            WHERE id = ${inviteId} AND ${go}`,
      ),
      prepare(
        db,
        sql`INSERT INTO rate_limits (key, window_start, count)
            SELECT k.key, ${hourStart}, 1 FROM invites i
            JOIN (SELECT ${inviteOrgKeySql(sql`organization_id`)} AS key FROM invites WHERE id = ${inviteId}
                  UNION ALL SELECT ${userKey} AS key) k
            WHERE i.id = ${inviteId} AND i.token_hash = ${hash}
            ON CONFLICT (key, window_start) DO UPDATE SET count = count + excluded.count`,
      ),
    ]);
  } catch (error) {
    // The one-pending-invite index (kept as the last line of defence).
    if (isUniqueViolation(error)) throw alreadyPendingError();
    throw error;
  }
  type ReadRow = ManagedInviteRow & {
    caller_name: string | null;
    other_expires_at: number | null;
    org_count: number;
    user_count: number;
  };
  const row = authorizeManagedInvite(results[0]?.results[0] as ReadRow | undefined, "invites:resend");
  assertCanGrant(row.caller_org_role, row.role);
  if (row.status !== "pending" && row.status !== "expired") throw finishedInviteError(row.status);
  if (row.other_expires_at !== null && row.other_expires_at > now) throw alreadyPendingError();
  const windows = inviteWindows(row.organization_id, userId, input.ratePerHour, now);
  assertWithinLimit(
    windows,
    rateCounts([
      { key: windows[0]?.key ?? "", count: row.org_count },
      { key: userKey, count: row.user_count },
    ]),
    1,
    now,
  );
  if (changes(results[4] as D1Result) !== 1) throw new ApiError("CONFLICT", "The invite changed meanwhile; try again.");
  // The row as the UPDATE left it (same transaction: the first read plus exactly what it set).
  const invite = toInvite(
    {
      ...row,
      status: "pending",
      token_version: row.token_version + 1,
      expires_at: expiresAt,
      invited_by: userId,
      inviter_name: row.caller_name,
      updated_at: now,
      delivery_status: "queued",
      delivery_attempts: 0,
      delivery_error: null,
      delivery_sent_at: null,
    },
    now,
  );
  const failed = await enqueueInviteEmails(db, queue, [
    { type: "invite", inviteId, tokenVersion: row.token_version + 1, token },
  ]);
  if (failed.has(inviteId)) markDeliveryFailed(invite);
  return invite;
}
