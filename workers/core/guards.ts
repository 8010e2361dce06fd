import {
  canGrantOrgRole,
  hasPermission,
  ORG_ROLES,
  type OrgPermission,
  type OrgRole,
  orgRank,
  type ProjectRole,
} from "./roles";
import { type SQL, sql } from "./sql";

/**
 * The SQL forms of the decisions in access.ts, built from the permission table in roles.ts (never
 * by calling a check on made-up rows): role IN-lists and rank comparisons, for the guards that
 * keep a write inside its batch exactly as allowed as the read that explains a refusal.
 *
 * Role names are inlined as literals: they come from the closed lists in roles.ts, never from a
 * request, and binding them would spend D1's 100 parameters per statement.
 */

const roleList = (roles: readonly string[]): SQL => sql.raw(roles.map((r) => `'${r}'`).join(", "));

/** The organization roles holding `permission`. */
export function orgRolesWith(permission: OrgPermission): OrgRole[] {
  return ORG_ROLES.filter((r) => hasPermission(r, permission));
}

/** `column IN (roles)`; false for no roles. */
export function roleIn(column: SQL, roles: readonly (OrgRole | ProjectRole)[]): SQL {
  return roles.length === 0 ? sql`0` : sql`${column} IN (${roleList(roles)})`;
}

/** The organization rank (roles.ts's orgRank) of a role column: owner 5 … guest 1, else 0. */
export function rankOf(column: SQL): SQL {
  return sql`(CASE ${column} ${sql.raw(ORG_ROLES.map((r) => `WHEN '${r}' THEN ${orgRank(r)}`).join(" "))} ELSE 0 END)`;
}

/** canGrantOrgRole(actor, granted) over two role columns. */
export function mayGrant(actor: SQL, granted: SQL): SQL {
  return sql`${rankOf(actor)} >= ${rankOf(granted)}`;
}

/** canGrantOrgRole(actor, role) for a known role: the actor's role is one of those that may. */
export function mayGrantRole(actor: SQL, role: OrgRole): SQL {
  return roleIn(
    actor,
    ORG_ROLES.filter((r) => canGrantOrgRole(r, role)),
  );
}

/**
 * access.ts's `assertCanManageProjectMember` rank rule (roles.ts `canManageProjectMember`) over
 * the actor's and the target's organization role columns: the target is an organization member
 * whose rank is not above the actor's (a NULL target, no membership, is refused).
 */
export function mayManageProjectMember(actor: SQL, target: SQL): SQL {
  return sql`(${target} IS NOT NULL AND ${rankOf(target)} <= ${rankOf(actor)})`;
}

/** Org roles that see every project of their organization (projects:read_all). */
const READ_ALL = orgRolesWith("projects:read_all");

/**
 * access.ts's `authorizeScope` + `assertCanGrant` over `ou.role` (the caller's organization role)
 * and, for a project scope, `pa.role` (their project role, NULL when none): the caller sees the
 * scope, holds `permission` in the organization or administers the project, and may grant `role`.
 */
export function scopeAllows(kind: "organization" | "project", permission: OrgPermission, role: OrgRole): SQL {
  const holds = roleIn(sql`ou.role`, orgRolesWith(permission));
  const grants = mayGrantRole(sql`ou.role`, role);
  if (kind === "organization") return sql`(${holds} AND ${grants})`;
  return sql`((pa.role IS NOT NULL OR ${roleIn(sql`ou.role`, READ_ALL)})
    AND (${holds} OR pa.role = 'admin') AND ${grants})`;
}

/**
 * access.ts's `authorizeManagedInvite` + `assertCanGrant` over `ou.role`, `pa.role` (the caller's
 * roles, `pa` joined on the invite's project) and `i.role` (the invite's): the caller manages the
 * invite (holds `permission`, or administers its project) and may grant its role.
 */
export function managesInvite(permission: OrgPermission): SQL {
  return sql`((${roleIn(sql`ou.role`, orgRolesWith(permission))} OR pa.role = 'admin')
    AND ${mayGrant(sql`ou.role`, sql`i.role`)})`;
}

/**
 * Whether the inviter of invite `i` may still invite at `i.role`: an organization role with
 * members:invite ranked at least `i.role`, or — for a project invite — project admin of that
 * project with an organization role ranked at least `i.role`.
 */
export const inviterStillAllowed: SQL = sql`EXISTS (
  SELECT 1 FROM organization_users iu
  WHERE iu.organization_id = i.organization_id AND iu.user_id = i.invited_by
    AND ${mayGrant(sql`iu.role`, sql`i.role`)}
    AND (${roleIn(sql`iu.role`, orgRolesWith("members:invite"))}
         OR (i.project_id IS NOT NULL AND EXISTS (
               SELECT 1 FROM project_admins ip
               WHERE ip.project_id = i.project_id AND ip.admin_id = i.invited_by AND ip.role = 'admin'))))`;

// Membership guards: the write of a membership change restates what its read decided on.

/** "`userId` is a member of `orgId` with one of `roles`". */
export function holdsOrgRole(orgId: string, userId: string, roles: readonly OrgRole[]): SQL {
  return sql`EXISTS (SELECT 1 FROM organization_users WHERE organization_id = ${orgId} AND user_id = ${userId}
    AND role IN (${sql.join(
      roles.map((r) => sql`${r}`),
      sql`, `,
    )}))`;
}

/** Every guard holds. */
export function allOf(...guards: SQL[]): SQL {
  return sql.join(
    guards.map((g) => sql`(${g})`),
    sql` AND `,
  );
}

/**
 * The last-owner rule, inside the statement that changes `target`: an owner's row may only lose
 * its ownership while another owner remains. Evaluated by SQLite in the write itself, so two
 * owners demoting or removing each other concurrently cannot both succeed.
 */
export function notLastOwner(orgId: string, targetRole: OrgRole): SQL {
  return sql`${targetRole} <> 'owner'
    OR (SELECT count(*) FROM organization_users WHERE organization_id = ${orgId} AND role = 'owner') > 1`;
}

/** "`userId` may still manage `projectId`": a project admin, or an organization role with read_all. */
export function managesProject(orgId: string, projectId: string, userId: string): SQL {
  return sql`${holdsOrgRole(orgId, userId, READ_ALL)}
    OR EXISTS (SELECT 1 FROM project_admins WHERE project_id = ${projectId} AND admin_id = ${userId} AND role = 'admin')`;
}

/** "`userId` still holds `role` in `projectId`." */
export function holdsProjectRole(projectId: string, userId: string, role: ProjectRole): SQL {
  return sql`EXISTS (SELECT 1 FROM project_admins WHERE project_id = ${projectId} AND admin_id = ${userId} AND role = ${role})`;
}

/**
 * "`targetId`'s organization rank is not above `actorId`'s" (`mayManageProjectMember`), read by
 * SQLite inside the write, so a promotion or demotion racing the request cannot slip past it.
 */
export function notOutranked(orgId: string, actorId: string, targetId: string): SQL {
  const roleOf = (userId: string) =>
    sql`(SELECT role FROM organization_users WHERE organization_id = ${orgId} AND user_id = ${userId})`;
  return mayManageProjectMember(roleOf(actorId), roleOf(targetId));
}
