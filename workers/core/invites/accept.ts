import { auditRowsStatement } from "../audit";
import { changes, type Db } from "../db";
import { ApiError } from "../errors";
import { inviterStillAllowed } from "../guards";
import { newId } from "../ids";
import { assertNotOver, type RateWindow, rateCounts, rateGuard, rateIncrementStatement } from "../rate-limit";
import type { OrgRole, ProjectRole } from "../roles";
import { prepare, sql } from "../sql";
import { type Organization, type Project, toOrganization, toProject } from "../views";
import {
  anyMatch,
  type InviteDiagnosis,
  type InviteKey,
  keyCondition,
  refusal,
  seatAvailable,
  verifiedMatch,
} from "./refusal";

export interface AcceptResult {
  organization: Organization;
  project: Project | null;
}

type AcceptView = InviteDiagnosis & {
  invite_id: string | null;
  mine: number;
  id: string;
  name: string;
  slug: string;
  created_at: number;
  max_members: number | null;
  org_role: OrgRole | null;
  project_id: string | null;
  project_name: string | null;
  project_created_at: number | null;
  project_role: ProjectRole | null;
  rate_count: number | null;
};

/**
 * Accepting, in ONE D1 batch (one transaction, one round trip — the failure path included). The
 * acceptance condition is checked inside the batch, at accept time, ONCE, by the guarded UPDATE:
 *   the invite is pending and unexpired (`expires_at > now`), a verified address of the caller
 *   equals the invite's, the inviter still holds a role that may invite at the invite's role,
 *   and a seat is left (or the caller is already a member) — plus the per-IP limit by token.
 * The UPDATE stamps a per-request random `accept_nonce`; every later statement is keyed on
 * (invite, nonce) — a primary-key or token-hash lookup — so it acts exactly when this request's
 * UPDATE did: the audit rows (one statement; `member.added` / `project_member.added` only for a
 * membership that did not exist yet, so they come before the inserts), the organization
 * membership (ON CONFLICT DO NOTHING: an existing org role is kept), the project membership
 * (likewise), and one read: the views to answer with, or — only when the nonce is not ours — the
 * diagnosis that names the contract error. Of any number of concurrent accepts exactly one UPDATE
 * matches, and the losers' nonces match nothing, even within the same millisecond.
 */
export async function acceptInvite(
  db: Db,
  input: { key: InviteKey; userId: string; now: number; rate?: RateWindow },
): Promise<AcceptResult> {
  const { userId, now, rate } = input;
  const key = await keyCondition(input.key);
  const nonce = crypto.randomUUID();
  const mine = sql`${key} AND i.accept_nonce = ${nonce}`;
  const ours = sql`i.accept_nonce = x.nonce`;
  const statements = [
    ...(rate ? [rateIncrementStatement(db, rate, 1)] : []),
    prepare(
      db,
      sql`UPDATE invites SET status = 'accepted', accepted_by = ${userId}, accepted_at = ${now}, updated_at = ${now},
                 accept_nonce = ${nonce}
          WHERE id IN (SELECT i.id FROM invites i JOIN organizations o ON o.id = i.organization_id
                       WHERE ${key} AND i.status = 'pending' AND i.expires_at > ${now}
                         AND ${verifiedMatch(userId)}
                         AND ${inviterStillAllowed}
                         AND ${seatAvailable(userId)}
                         AND ${rate ? rateGuard([rate]) : sql`1`})`,
    ),
    auditRowsStatement(db, [
      {
        action: "invite.accepted",
        targetType: "invite",
        id: newId("auditEvent"),
        organizationId: sql`i.organization_id`,
        actorId: userId,
        targetId: sql`i.id`,
        data: sql`json_object('email', i.email, 'role', i.role, 'projectId', i.project_id, 'projectRole', i.project_role)`,
        at: now,
        from: sql`FROM invites i WHERE ${mine}`,
      },
      {
        action: "member.added",
        targetType: "member",
        id: newId("auditEvent"),
        organizationId: sql`i.organization_id`,
        actorId: userId,
        targetId: userId,
        data: sql`json_object('role', i.role, 'inviteId', i.id)`,
        at: now,
        from: sql`FROM invites i WHERE ${mine}
          AND NOT EXISTS (SELECT 1 FROM organization_users m WHERE m.organization_id = i.organization_id AND m.user_id = ${userId})`,
      },
      {
        action: "project_member.added",
        targetType: "project_member",
        id: newId("auditEvent"),
        organizationId: sql`i.organization_id`,
        actorId: userId,
        targetId: userId,
        data: sql`json_object('projectId', i.project_id, 'role', i.project_role, 'inviteId', i.id)`,
        at: now,
        from: sql`FROM invites i WHERE ${mine} AND i.project_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM project_admins pa WHERE pa.project_id = i.project_id AND pa.admin_id = ${userId})`,
      },
    ]),
    prepare(
      db,
      sql`INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
          SELECT i.organization_id, ${userId}, i.role, ${now}, ${now} FROM invites i WHERE ${mine}
          ON CONFLICT DO NOTHING`,
    ),
    prepare(
      db,
      sql`INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at)
          SELECT i.project_id, ${userId}, i.project_role, ${now}, ${now} FROM invites i WHERE ${mine} AND i.project_id IS NOT NULL
          ON CONFLICT DO NOTHING`,
    ),
    // Always one row (the invite may not exist). The diagnosis columns are evaluated only when the
    // UPDATE was not ours (CASE is lazy): after a refused UPDATE nothing changed, so they describe
    // the state the guard saw.
    prepare(
      db,
      sql`SELECT i.id AS invite_id, i.status, i.expires_at, coalesce(${ours}, 0) AS mine,
                 CASE WHEN ${ours} THEN 1 ELSE ${verifiedMatch(userId)} END AS verified_match,
                 CASE WHEN ${ours} THEN 1 ELSE ${anyMatch(userId)} END AS any_match,
                 CASE WHEN ${ours} THEN 1 ELSE ${inviterStillAllowed} END AS inviter_ok,
                 CASE WHEN ${ours} THEN 1 ELSE ${seatAvailable(userId)} END AS seat_ok,
                 o.id, o.name, o.slug, o.created_at, o.max_members, ou.role AS org_role,
                 p.id AS project_id, p.name AS project_name, p.created_at AS project_created_at,
                 pa.role AS project_role,
                 ${rate ? sql`(SELECT count FROM rate_limits WHERE key = ${rate.key} AND window_start = ${rate.windowStart})` : sql`NULL`} AS rate_count
          FROM (SELECT ${nonce} AS nonce) x
          LEFT JOIN invites i ON ${key}
          LEFT JOIN organizations o ON o.id = i.organization_id
          LEFT JOIN organization_users ou ON ou.organization_id = o.id AND ou.user_id = ${userId}
          LEFT JOIN projects p ON p.id = i.project_id
          LEFT JOIN project_admins pa ON pa.project_id = p.id AND pa.admin_id = ${userId}`,
    ),
  ];
  const results = await db.batch(statements);
  const view = results.at(-1)?.results[0] as AcceptView | undefined;
  if (changes(results[rate ? 1 : 0] as D1Result) === 0 || view?.mine !== 1) {
    if (rate) assertNotOver([rate], rateCounts([{ key: rate.key, count: view?.rate_count ?? 0 }]), now);
    const d = view?.invite_id == null ? undefined : view;
    throw (
      refusal(d, "id" in input.key, now) ??
      (d?.inviter_ok === 0
        ? new ApiError(
            "FORBIDDEN",
            "The person who invited you no longer has a role that may invite at this role; ask for a new invite.",
          )
        : d?.seat_ok === 0
          ? new ApiError("SEAT_LIMIT_REACHED", "This organization has no seat left; ask an admin to make room.")
          : new ApiError("CONFLICT", "The invite changed meanwhile; try again."))
    );
  }
  if (view.org_role === null) throw new ApiError("INTERNAL", "The accepted invite could not be read back.");
  return {
    organization: toOrganization(view, view.org_role),
    project:
      view.project_id === null
        ? null
        : toProject(
            {
              id: view.project_id,
              organization_id: view.id,
              name: view.project_name ?? "",
              created_at: view.project_created_at ?? 0,
            },
            view.project_role,
          ),
  };
}
