import { assertCanGrant, authorizeScope } from "../access";
import { auditRowsStatement } from "../audit";
import type { Db } from "../db";
import { iso } from "../db";
import { ApiError } from "../errors";
import { scopeAllows } from "../guards";
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
import type { OrgRole, ProjectRole } from "../roles";
import { prepare, type SQL, sql } from "../sql";
import { generateToken, sha256Hex } from "../tokens";
import { expireOverdueStatements } from "./expire";
import { enqueueInviteEmails, type InviteQueue, markDeliveryFailed } from "./queue";
import { DAY_MS, type InviteScope, scopeAccessStatement, scopeOrgIdSql } from "./scope";
import { INVITE_COLUMNS, type Invite, type InviteRow, toInvite } from "./views";

/** The most addresses one create request may carry (API.md). */
export const MAX_EMAILS_PER_REQUEST = 50;

export interface CreateInvitesInput {
  scope: InviteScope;
  inviterId: string;
  /** Canonical addresses (emailSchema), in request order; duplicates are collapsed here. */
  emails: string[];
  /** The organization role granted on acceptance when the invitee is not yet a member. */
  role: OrgRole;
  /** Set for project invites. */
  projectRole: ProjectRole | null;
  now: number;
  ttlDays: number;
  /** RATE_LIMIT_INVITES_PER_HOUR. */
  ratePerHour: number;
}

export type CreateOutcome = "invited" | "already_invited" | "already_member";

export interface CreateResult {
  email: string;
  outcome: CreateOutcome;
  invite: Invite | null;
}

interface NewInvite {
  id: string;
  email: string;
  token: string;
  hash: string;
  auditId: string;
}

/**
 * Invites each address to the scope in ONE D1 round trip whatever the number of addresses (plus
 * one only when enqueueing the emails fails). One batch, one transaction:
 *   the caller's access (read first: it explains a refusal), the stale pending invites of these
 *   addresses expired (audited), the new invites inserted, their audit rows, the rate counters
 *   incremented by what was inserted, and each address's outcome read back.
 * Every write is guarded in SQL by the caller's access and rank (guards.ts's `scopeAllows`, built
 * from the same permission table as the checks that name the error), so a refused request writes
 * nothing. The insert is also guarded by the rate limits (counts + new addresses ≤ limit, all or
 * nothing) and skips members (by verified address) and addresses with a pending invite (ON
 * CONFLICT on the one-pending index); the statements after it are keyed on this request's fresh
 * invite ids, so they act exactly when the insert did. Addresses travel as one JSON parameter
 * (`json_each`), so no statement comes near D1's 100 bound parameters. A batch is serialized
 * against every other write: concurrent requests cannot both insert an address or together
 * overshoot a limit.
 */
export async function createInvites(db: Db, queue: InviteQueue, input: CreateInvitesInput): Promise<CreateResult[]> {
  const { scope, inviterId, now } = input;
  const emails = [...new Set(input.emails)];
  if (emails.length === 0 || emails.length > MAX_EMAILS_PER_REQUEST) {
    throw new ApiError("VALIDATION_FAILED", `Send 1 to ${MAX_EMAILS_PER_REQUEST} addresses.`);
  }
  const orgId = scopeOrgIdSql(scope);
  const scopeId = scope.kind === "organization" ? scope.orgId : scope.projectId;
  const projectKey = scope.kind === "organization" ? "" : scope.projectId;
  // Matches the one-pending index (email, organization_id, COALESCE(project_id, '')).
  const inScope = (a: string) =>
    sql`${sql.raw(a)}.organization_id = ${orgId} AND COALESCE(${sql.raw(a)}.project_id, '') = ${projectKey}`;
  const hourStart = Math.floor(now / HOUR_MS) * HOUR_MS;
  const userKey = inviteUserKey(inviterId);
  const orgCount = rateCountSql(inviteOrgKeySql(orgId), hourStart);
  const userCount = rateCountSql(userKey, hourStart);
  const may = scopeAllows(scope.kind, "members:invite", input.role);
  const allowed =
    scope.kind === "organization"
      ? sql`EXISTS (SELECT 1 FROM organization_users ou JOIN organizations o ON o.id = ou.organization_id
             WHERE ou.organization_id = ${scope.orgId} AND ou.user_id = ${inviterId} AND ${may})`
      : sql`EXISTS (SELECT 1 FROM projects p JOIN organizations o ON o.id = p.organization_id
             JOIN organization_users ou ON ou.organization_id = p.organization_id AND ou.user_id = ${inviterId}
             LEFT JOIN project_admins pa ON pa.project_id = p.id AND pa.admin_id = ${inviterId}
             WHERE p.id = ${scope.projectId} AND ${may})`;
  const isMember = (email: SQL) =>
    scope.kind === "organization"
      ? sql`EXISTS (SELECT 1 FROM user_emails ue JOIN organization_users m ON m.user_id = ue.user_id AND m.organization_id = ${scopeId}
                 WHERE ue.email = ${email} AND ue.verified = 1)`
      : sql`EXISTS (SELECT 1 FROM user_emails ue JOIN project_admins m ON m.admin_id = ue.user_id AND m.project_id = ${scopeId}
                 WHERE ue.email = ${email} AND ue.verified = 1)`;
  const requested = sql`j.value ->> 'email'`;

  const fresh: NewInvite[] = await Promise.all(
    emails.map(async (email) => {
      const token = generateToken();
      return { id: newId("invite"), email, token, hash: await sha256Hex(token), auditId: newId("auditEvent") };
    }),
  );
  const freshJson = JSON.stringify(fresh.map((f) => ({ id: f.id, email: f.email, hash: f.hash, auditId: f.auditId })));
  const expiresAt = now + input.ttlDays * DAY_MS;
  // How many addresses this request would invite anew (the stale expired first: no longer pending).
  const newCount = sql`(SELECT count(*) FROM json_each(${freshJson}) j
      WHERE NOT ${isMember(requested)}
        AND NOT EXISTS (SELECT 1 FROM invites x WHERE x.email = ${requested} AND ${inScope("x")}
                          AND x.status = 'pending' AND x.expires_at > ${now}))`;
  const created = sql`(SELECT count(*) FROM invites WHERE id IN (SELECT j.value ->> 'id' FROM json_each(${freshJson}) j))`;

  const results = await db.batch([
    scopeAccessStatement(db, scope, inviterId),
    // A pending invite past its expiry that the cron has not marked yet is expired first, so that
    // it frees the one-pending-invite slot. INDEXED BY: left to itself the planner scans every
    // overdue invite (invites_status_expires): 2 ms in the bench.
    ...expireOverdueStatements(db, {
      due: sql`SELECT i.rowid FROM json_each(${JSON.stringify(emails)}) j
               JOIN invites i INDEXED BY invites_one_pending ON i.email = j.value AND ${inScope("i")}
               WHERE i.status = 'pending' AND i.expires_at <= ${now}`,
      now,
      guard: allowed,
      auditIds: emails.length,
    }),
    prepare(
      db,
      sql`INSERT INTO invites (id, organization_id, project_id, email, role, project_role, status, token_hash,
                               token_version, invited_by, expires_at, created_at, updated_at)
          SELECT j.value ->> 'id', ${orgId}, ${scope.kind === "organization" ? null : scope.projectId}, ${requested},
                 ${input.role}, ${input.projectRole}, 'pending', j.value ->> 'hash', 1, ${inviterId}, ${expiresAt},
                 ${now}, ${now}
          FROM json_each(${freshJson}) j
          WHERE NOT ${isMember(requested)}
            AND ${allowed}
            -- both windows have the same limit (inviteWindows)
            AND max(${orgCount}, ${userCount}) + ${newCount} <= ${input.ratePerHour}
          ON CONFLICT DO NOTHING`,
    ),
    auditRowsStatement(db, [
      {
        action: "invite.created",
        targetType: "invite",
        id: sql`j.value ->> 'auditId'`,
        organizationId: sql`i.organization_id`,
        actorId: inviterId,
        targetId: sql`i.id`,
        data: sql`json_object('email', i.email, 'role', i.role, 'projectId', i.project_id,
                              'projectRole', i.project_role, 'expiresAt', ${iso(expiresAt)})`,
        at: now,
        from: sql`FROM json_each(${freshJson}) j JOIN invites i ON i.id = j.value ->> 'id'`,
      },
    ]),
    // Both windows count what was inserted (nothing when the insert was refused).
    prepare(
      db,
      sql`INSERT INTO rate_limits (key, window_start, count)
          SELECT k.key, ${hourStart}, c.n
          FROM (SELECT ${inviteOrgKeySql(orgId)} AS key UNION ALL SELECT ${userKey} AS key) k, (SELECT ${created} AS n) c
          WHERE c.n > 0
          ON CONFLICT (key, window_start) DO UPDATE SET count = count + excluded.count`,
    ),
    // Each address in request order: member (not checked for what this request created), its
    // pending invite in the scope, whether this request created it; and the counts (for a 429).
    prepare(
      db,
      sql`SELECT j.key AS ord, ${requested} AS req_email,
                 CASE WHEN i.id = j.value ->> 'id' THEN 1 ELSE 0 END AS created,
                 CASE WHEN i.id = j.value ->> 'id' THEN 0 ELSE ${isMember(requested)} END AS member,
                 ${orgCount} AS org_count, ${userCount} AS user_count,
                 ${sql.raw(INVITE_COLUMNS)}
          FROM json_each(${freshJson}) j
          LEFT JOIN invites i ON i.email = ${requested} AND ${inScope("i")} AND i.status = 'pending'
          LEFT JOIN admins inviter ON inviter.id = i.invited_by`,
    ),
  ]);

  const access = authorizeScope(results[0]?.results[0] as never, scope.kind, "members:invite");
  assertCanGrant(access.orgRole, input.role);

  type Outcome = InviteRow & {
    ord: number;
    req_email: string;
    created: number;
    member: number;
    org_count: number;
    user_count: number;
  };
  const rows = (results.at(-1)?.results ?? []) as Outcome[];
  const out: CreateResult[] = new Array(emails.length);
  const createdInvites: NewInvite[] = [];
  let refused = 0;
  for (const row of rows) {
    const f = fresh[row.ord] as NewInvite;
    if (row.member === 1) {
      out[row.ord] = { email: f.email, outcome: "already_member", invite: null };
    } else if (row.id !== null) {
      if (row.created === 1) createdInvites.push(f);
      out[row.ord] = {
        email: f.email,
        outcome: row.created === 1 ? "invited" : "already_invited",
        invite: toInvite(row, now),
      };
    } else {
      refused++;
    }
  }
  if (refused > 0 || rows.length !== emails.length) {
    // The insert was refused: the only guard left is the rate limits (counts read after it).
    const windows = inviteWindows(access.orgId, inviterId, input.ratePerHour, now);
    const counts = rateCounts([
      { key: windows[0]?.key ?? "", count: rows[0]?.org_count ?? 0 },
      { key: userKey, count: rows[0]?.user_count ?? 0 },
    ]);
    assertWithinLimit(windows, counts, refused, now);
    throw new ApiError("CONFLICT", "The invites changed while they were being created; try again.");
  }

  const failed = await enqueueInviteEmails(
    db,
    queue,
    createdInvites.map((f) => ({ type: "invite", inviteId: f.id, tokenVersion: 1, token: f.token })),
  );
  for (const result of out) {
    if (result.invite !== null && failed.has(result.invite.id)) markDeliveryFailed(result.invite);
  }
  return out;
}
