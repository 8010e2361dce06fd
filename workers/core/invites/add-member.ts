import { assertCanGrant, authorizeScope } from "../access";
import { auditRowsStatement } from "../audit";
import { type Db, iso } from "../db";
import { ApiError } from "../errors";
import { scopeAllows } from "../guards";
import { newId } from "../ids";
import { assertWithinLimit, inviteWindows, rateCountSql, rateCountStatement, rateCounts } from "../rate-limit";
import type { OrgRole } from "../roles";
import { prepare, sql } from "../sql";
import { generateToken, sha256Hex } from "../tokens";
import { expireOverdueStatements } from "./expire";
import { DAY_MS, scopeAccessStatement } from "./scope";
import { INVITE_COLUMNS, INVITE_FROM, type Invite, type InviteRow, toInvite } from "./views";

/**
 * Adding an existing user by id, pending their consent (seed 001): never a membership behind their
 * back, but an invite with `source = 'owner_add'` addressed to their primary verified address. It
 * lives in the one `invites` table, so it shows in their banner feed, is accepted or declined by
 * id, expires, is resent, revoked and audited like any invite, under the same rank rules.
 *
 * The offer email is the notification of its `invite.created` event (core/events/notifications.ts):
 * outbox-backed (a lost hand-off is sent by the sweep) and sent at most once per event. It carries
 * no link — the user accepts signed in — so the random token the row needs never leaves here.
 */
export type AddOutcome = "invited" | "already_invited";

export interface AddMemberInput {
  orgId: string;
  actorId: string;
  userId: string;
  role: OrgRole;
  now: number;
  ttlDays: number;
  /** RATE_LIMIT_INVITES_PER_HOUR: the offer is an email, counted like an invite's. */
  ratePerHour: number;
}

/**
 * One D1 batch, one round trip: the caller's access and the target (their address, membership)
 * read first, to name a refusal; a pending invite for that address past its expiry expired
 * (expire.ts, audited), freeing the one-pending slot; the invite inserted unless the target is
 * unknown, has no verified address, is a member, already has a pending invite (ON CONFLICT on the
 * one-pending index), or the invite rate limit has no room — every write guarded by the caller's
 * role (guards.ts); its audit row (the event that sends the offer) and the rate counters keyed on
 * the fresh id; the address's pending invite read back.
 */
export async function addExistingUser(db: Db, input: AddMemberInput): Promise<{ outcome: AddOutcome; invite: Invite }> {
  const { orgId, actorId, userId, role, now } = input;
  const id = newId("invite");
  const hash = await sha256Hex(generateToken());
  const expiresAt = now + input.ttlDays * DAY_MS;
  const scope = { kind: "organization", orgId } as const;
  const address = sql`(SELECT email FROM user_emails WHERE user_id = ${userId} AND verified = 1
    ORDER BY is_primary DESC, email LIMIT 1)`;
  const allowed = sql`EXISTS (SELECT 1 FROM organization_users ou JOIN organizations o ON o.id = ou.organization_id
    WHERE ou.organization_id = ${orgId} AND ou.user_id = ${actorId}
      AND ${scopeAllows("organization", "members:invite", role)})`;
  const isMember = sql`EXISTS (SELECT 1 FROM organization_users WHERE organization_id = ${orgId} AND user_id = ${userId})`;
  // Room for one more invite email in both windows (organization and inviter), read in the insert.
  const windows = inviteWindows(orgId, actorId, input.ratePerHour, now);
  const room = sql.join(
    windows.map((w) => sql`${rateCountSql(w.key, w.windowStart)} + 1 <= ${w.limit}`),
    sql` AND `,
  );
  const mine = sql`FROM invites i WHERE i.id = ${id}`;

  const results = await db.batch([
    scopeAccessStatement(db, scope, actorId),
    rateCountStatement(db, windows),
    prepare(db, sql`SELECT ${address} AS email, ${isMember} AS member FROM admins a WHERE a.id = ${userId}`),
    ...expireOverdueStatements(db, {
      due: sql`SELECT i.rowid FROM invites i
               WHERE i.organization_id = ${orgId} AND i.project_id IS NULL AND i.email = ${address}
                 AND i.status = 'pending' AND i.expires_at <= ${now}`,
      now,
      guard: allowed,
      auditIds: 1,
    }),
    prepare(
      db,
      sql`INSERT INTO invites (id, organization_id, project_id, email, role, project_role, status, token_hash,
                               token_version, invited_by, expires_at, created_at, updated_at, source)
          SELECT ${id}, ${orgId}, NULL, t.email, ${role}, NULL, 'pending', ${hash}, 1, ${actorId}, ${expiresAt},
                 ${now}, ${now}, 'owner_add'
          FROM (SELECT ${address} AS email) t
          WHERE t.email IS NOT NULL AND ${allowed} AND NOT ${isMember} AND ${room}
          ON CONFLICT DO NOTHING`,
    ),
    auditRowsStatement(db, [
      {
        action: "invite.created",
        targetType: "invite",
        id: newId("auditEvent"),
        organizationId: sql`i.organization_id`,
        actorId,
        targetId: sql`i.id`,
        data: sql`json_object('email', i.email, 'role', i.role, 'projectId', NULL, 'projectRole', NULL,
                              'expiresAt', ${iso(expiresAt)}, 'source', 'owner_add', 'userId', ${userId})`,
        at: now,
        from: mine,
      },
    ]),
    // Both windows count the email, only when this request inserted the invite.
    prepare(
      db,
      sql`INSERT INTO rate_limits (key, window_start, count)
          SELECT w.value ->> 'key', w.value ->> 'start', 1
          FROM json_each(${JSON.stringify(windows.map((w) => ({ key: w.key, start: w.windowStart })))}) w
          WHERE EXISTS (SELECT 1 ${mine})
          ON CONFLICT (key, window_start) DO UPDATE SET count = count + excluded.count`,
    ),
    prepare(
      db,
      sql`SELECT ${sql.raw(INVITE_COLUMNS)} FROM ${sql.raw(INVITE_FROM)}
          WHERE i.organization_id = ${orgId} AND i.project_id IS NULL AND i.status = 'pending'
            AND i.email = ${address}`,
    ),
  ]);

  const access = authorizeScope(results[0]?.results[0] as never, "organization", "members:invite");
  assertCanGrant(access.orgRole, role, "add someone as");
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
  return { outcome: row.id === id ? "invited" : "already_invited", invite: toInvite(row, now) };
}
