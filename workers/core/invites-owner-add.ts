import { assertOrgPermission, type OrgAccessRow, orgAccessFromRow, orgAccessStatement } from "./access";
import { type Db, iso } from "./db";
import { ApiError } from "./errors";
import { newId } from "./ids";
import { INVITE_COLUMNS, INVITE_FROM, type Invite, type InviteRow, toInvite } from "./invite-views";
import { enqueueInviteEmails, type InviteQueue } from "./invites";
import { assertWithinLimit, inviteWindows, rateCountStatement, rateCounts } from "./rate-limit";
import { canGrantOrgRole, hasPermission, ORG_ROLES, type OrgRole } from "./roles";
import { generateToken, sha256Hex } from "./tokens";

/**
 * Adding an existing user by id, pending their consent (seed 001): never a membership behind their
 * back, but an invite with `source = 'owner_add'` addressed to their primary verified address. It
 * lives in the one `invites` table, so it shows in their banner feed, is accepted or declined by
 * id, expires, is resent, revoked and audited like any invite, under the same rank rules. Its
 * email is a notice without a link (the consumer renders it by source): the user accepts signed
 * in. The token the row needs is random and never leaves the queue message.
 */
export type AddOutcome = "invited" | "already_invited";

const DAY_MS = 86_400_000;

/** The roles that may invite at `role`: members:invite and a rank at least `role`'s. */
function inviterRolesSql(role: OrgRole): string {
  const roles = ORG_ROLES.filter((r) => hasPermission(r, "members:invite") && canGrantOrgRole(r, role));
  return roles.length === 0 ? "NULL" : roles.map((r) => `'${r}'`).join(", ");
}

/**
 * One D1 batch, one round trip (plus one only when enqueueing the notice fails): the caller's
 * access and the target (their address, membership) read first, to name a refusal; a pending
 * invite for that address past its expiry expired (audited, actor: the system), freeing the
 * one-pending slot; the invite inserted unless the target is unknown, has no verified address,
 * is a member, already has a pending invite (ON CONFLICT on the one-pending index), or the invite
 * rate limit has no room — every write guarded by the caller's role; its audit row and the rate
 * counters keyed on the fresh id; the address's pending invite read back.
 */
export async function addExistingUser(
  db: Db,
  queue: InviteQueue,
  input: {
    orgId: string;
    actorId: string;
    userId: string;
    role: OrgRole;
    now: number;
    ttlDays: number;
    /** RATE_LIMIT_INVITES_PER_HOUR: the notice is an invite email, counted like one. */
    ratePerHour: number;
  },
): Promise<{ outcome: AddOutcome; invite: Invite }> {
  const { orgId, actorId, userId, role, now } = input;
  const id = newId("invite");
  const token = generateToken();
  const hash = await sha256Hex(token);
  const expiresAt = now + input.ttlDays * DAY_MS;
  const address = `(SELECT email FROM user_emails WHERE user_id = ? AND verified = 1 ORDER BY is_primary DESC, email LIMIT 1)`;
  const allowed = `EXISTS (SELECT 1 FROM organization_users ou WHERE ou.organization_id = ? AND ou.user_id = ?
    AND ou.role IN (${inviterRolesSql(role)}))`;
  const stale = `i.organization_id = ? AND i.project_id IS NULL AND i.email = ${address}
    AND i.status = 'pending' AND i.expires_at <= ? AND ${allowed}`;
  const staleParams = [orgId, userId, now, orgId, actorId];
  // Room for one more invite email in both windows (organization and inviter), read in the insert.
  const windows = inviteWindows(orgId, actorId, input.ratePerHour, now);
  const room = {
    sql: windows
      .map(() => "COALESCE((SELECT count FROM rate_limits WHERE key = ? AND window_start = ?), 0) + 1 <= ?")
      .join(" AND "),
    params: windows.flatMap((w) => [w.key, w.windowStart, w.limit]),
  };
  const results = await db.batch([
    orgAccessStatement(db, orgId, actorId),
    rateCountStatement(db, windows),
    db
      .prepare(
        `SELECT ${address} AS email,
                EXISTS (SELECT 1 FROM organization_users WHERE organization_id = ? AND user_id = a.id) AS member
         FROM admins a WHERE a.id = ?`,
      )
      .bind(userId, orgId, userId),
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, i.organization_id, NULL, 'invite.expired', 'invite', i.id,
                json_object('email', i.email, 'expiresAt', strftime('%Y-%m-%dT%H:%M:%fZ', i.expires_at / 1000.0, 'unixepoch')), ?
         FROM invites i WHERE ${stale}`,
      )
      .bind(newId("auditEvent"), now, ...staleParams),
    db
      .prepare(
        `UPDATE invites SET status = 'expired', updated_at = ? WHERE id IN (SELECT i.id FROM invites i WHERE ${stale})`,
      )
      .bind(now, ...staleParams),
    db
      .prepare(
        `INSERT INTO invites (id, organization_id, project_id, email, role, project_role, status, token_hash,
                              token_version, invited_by, expires_at, created_at, updated_at, source)
         SELECT ?, ?, NULL, t.email, ?, NULL, 'pending', ?, 1, ?, ?, ?, ?, 'owner_add'
         FROM (SELECT ${address} AS email) t
         WHERE t.email IS NOT NULL AND ${allowed}
           AND NOT EXISTS (SELECT 1 FROM organization_users WHERE organization_id = ? AND user_id = ?)
           AND ${room.sql}
         ON CONFLICT DO NOTHING`,
      )
      .bind(id, orgId, role, hash, actorId, expiresAt, now, now, userId, orgId, actorId, orgId, userId, ...room.params),
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, i.organization_id, ?, 'invite.created', 'invite', i.id,
                json_object('email', i.email, 'role', i.role, 'projectId', NULL, 'projectRole', NULL,
                            'expiresAt', ?, 'source', 'owner_add', 'userId', ?), ?
         FROM invites i WHERE i.id = ?`,
      )
      .bind(newId("auditEvent"), actorId, iso(expiresAt), userId, now, id),
    // Both windows count the email, only when this request inserted the invite.
    ...windows.map((w) =>
      db
        .prepare(
          `INSERT INTO rate_limits (key, window_start, count) SELECT ?, ?, 1 WHERE EXISTS (SELECT 1 FROM invites WHERE id = ?)
           ON CONFLICT (key, window_start) DO UPDATE SET count = count + excluded.count`,
        )
        .bind(w.key, w.windowStart, id),
    ),
    db
      .prepare(
        `SELECT ${INVITE_COLUMNS} FROM ${INVITE_FROM}
         WHERE i.organization_id = ? AND i.project_id IS NULL AND i.status = 'pending' AND i.email = ${address}`,
      )
      .bind(orgId, userId),
  ]);

  const access = orgAccessFromRow(results[0]?.results[0] as OrgAccessRow | undefined);
  assertOrgPermission(access, "members:invite");
  if (!canGrantOrgRole(access.role, role)) {
    throw new ApiError(
      "ROLE_ABOVE_OWN",
      `You cannot add someone as ${role}: it is above your own role (${access.role}).`,
    );
  }
  const target = results[2]?.results[0] as { email: string | null; member: number } | undefined;
  if (target === undefined) throw new ApiError("NOT_FOUND", "No such user.");
  if (target.member === 1) throw new ApiError("ALREADY_MEMBER", "This user is already a member of the organization.");
  if (target.email === null) {
    throw new ApiError("NO_VERIFIED_EMAIL", "This user has no verified email address to send the offer to.");
  }
  const row = results.at(-1)?.results[0] as InviteRow | undefined;
  if (row === undefined) {
    // Everything else allowed the insert: only the rate limit can have refused it.
    assertWithinLimit(windows, rateCounts(results[1]?.results as { key: string; count: number }[]), 1, now);
    throw new ApiError("CONFLICT", "The invites changed meanwhile; try again.");
  }
  const invite = toInvite(row, now);
  if (row.id !== id) return { outcome: "already_invited", invite };
  const failed = await enqueueInviteEmails(db, queue, [{ type: "invite", inviteId: id, tokenVersion: 1, token }]);
  if (failed.has(id)) {
    invite.delivery = { status: "failed", attempts: 0, lastError: "enqueue failed", sentAt: null };
  }
  return { outcome: "invited", invite };
}
