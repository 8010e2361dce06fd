import { type Db, first } from "./db";
import { ApiError } from "./errors";
import {
  canGrantOrgRole,
  canManageProjectMember,
  hasPermission,
  type OrgPermission,
  type OrgRole,
  type ProjectRole,
} from "./roles";
import type { OrganizationRow, ProjectRow } from "./views";

/**
 * Authorization is one call that throws. Each function is one D1 round trip: it reads the
 * resource and the caller's membership together. A resource the caller may not see is 404
 * (no existence oracle); a visible one with a role that lacks the permission is 403.
 */
export interface OrgAccess {
  organization: OrganizationRow;
  role: OrgRole;
}

export async function requireOrgMember(db: Db, orgId: string, userId: string): Promise<OrgAccess> {
  return orgAccessFromRow(await first<OrgAccessRow>(orgAccessStatement(db, orgId, userId)));
}

export type OrgAccessRow = OrganizationRow & { role: OrgRole };

/**
 * The read behind requireOrgMember, as a statement: callers that need more rows in the same round
 * trip put it in one `db.batch` with their own reads and pass its row to `orgAccessFromRow`.
 */
export function orgAccessStatement(db: Db, orgId: string, userId: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT o.id, o.name, o.slug, o.created_at, o.max_members, ou.role
       FROM organizations o JOIN organization_users ou ON ou.organization_id = o.id
       WHERE o.id = ? AND ou.user_id = ?`,
    )
    .bind(orgId, userId);
}

export function orgAccessFromRow(row: OrgAccessRow | null | undefined): OrgAccess {
  if (row === null || row === undefined) throw new ApiError("NOT_FOUND", "No such organization.");
  const { role, ...organization } = row;
  return { organization, role };
}

export function assertOrgPermission(access: OrgAccess, permission: OrgPermission): void {
  if (!hasPermission(access.role, permission)) {
    throw new ApiError("FORBIDDEN", `Your role (${access.role}) does not allow ${permission}.`);
  }
}

export async function requireOrgPermission(
  db: Db,
  orgId: string,
  userId: string,
  permission: OrgPermission,
): Promise<OrgAccess> {
  const access = await requireOrgMember(db, orgId, userId);
  assertOrgPermission(access, permission);
  return access;
}

export interface ProjectAccess {
  project: ProjectRow;
  organization: OrganizationRow;
  orgRole: OrgRole;
  /** The caller's own project role, null when they see the project through their org role. */
  projectRole: ProjectRole | null;
  /** Project admins and org members with projects:read_all manage the project's members. */
  canManage: boolean;
}

/** The project as the caller may see it: as its member, or through projects:read_all. */
export async function requireProjectAccess(db: Db, projectId: string, userId: string): Promise<ProjectAccess> {
  return projectAccessFromRow(await first<ProjectAccessRow>(projectAccessStatement(db, projectId, userId)));
}

export type ProjectAccessRow = ProjectRow & {
  org_name: string;
  org_slug: string;
  org_created_at: number;
  org_max_members: number | null;
  org_role: OrgRole;
  project_role: ProjectRole | null;
};

/** The read behind requireProjectAccess, as a statement to batch with other reads. */
export function projectAccessStatement(db: Db, projectId: string, userId: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT p.id, p.organization_id, p.name, p.created_at,
              o.name AS org_name, o.slug AS org_slug, o.created_at AS org_created_at,
              o.max_members AS org_max_members, ou.role AS org_role, pa.role AS project_role
       FROM projects p
       JOIN organizations o ON o.id = p.organization_id
       JOIN organization_users ou ON ou.organization_id = p.organization_id AND ou.user_id = ?
       LEFT JOIN project_admins pa ON pa.project_id = p.id AND pa.admin_id = ?
       WHERE p.id = ?`,
    )
    .bind(userId, userId, projectId);
}

export function projectAccessFromRow(row: ProjectAccessRow | null | undefined): ProjectAccess {
  if (row === null || row === undefined) throw new ApiError("NOT_FOUND", "No such project.");
  const readAll = hasPermission(row.org_role, "projects:read_all");
  if (row.project_role === null && !readAll) throw new ApiError("NOT_FOUND", "No such project.");
  return {
    project: { id: row.id, organization_id: row.organization_id, name: row.name, created_at: row.created_at },
    organization: {
      id: row.organization_id,
      name: row.org_name,
      slug: row.org_slug,
      created_at: row.org_created_at,
      max_members: row.org_max_members,
    },
    orgRole: row.org_role,
    projectRole: row.project_role,
    canManage: readAll || row.project_role === "admin",
  };
}

export function assertCanManageProject(access: ProjectAccess): void {
  if (!access.canManage) {
    throw new ApiError("FORBIDDEN", "Only project admins and organization managers manage this project.");
  }
}

/** The caller's roles in an invite's scope, once the scope is visible to them. */
export interface ScopeAccess {
  orgId: string;
  projectId: string | null;
  orgRole: OrgRole;
  projectRole: ProjectRole | null;
}

/**
 * An invite scope as the caller may see it (else 404, as above): an organization they belong to;
 * a project they belong to or see through projects:read_all. `permission` in the organization, or
 * project admin for a project scope, allows the action (else 403). guards.ts's `scopeAllows` is
 * the same decision in SQL.
 */
export function authorizeScope(
  row: OrgAccessRow | ProjectAccessRow | undefined,
  kind: "organization" | "project",
  permission: OrgPermission,
): ScopeAccess {
  let access: ScopeAccess;
  if (kind === "organization") {
    const org = orgAccessFromRow(row as OrgAccessRow | undefined);
    access = { orgId: org.organization.id, projectId: null, orgRole: org.role, projectRole: null };
  } else {
    const project = projectAccessFromRow(row as ProjectAccessRow | undefined);
    access = {
      orgId: project.organization.id,
      projectId: project.project.id,
      orgRole: project.orgRole,
      projectRole: project.projectRole,
    };
  }
  if (!hasPermission(access.orgRole, permission) && access.projectRole !== "admin") {
    throw new ApiError(
      "FORBIDDEN",
      kind === "organization"
        ? `Your role (${access.orgRole}) does not allow ${permission}.`
        : `Your roles (organization ${access.orgRole}, project ${access.projectRole ?? "none"}) do not allow ${permission}.`,
    );
  }
  return access;
}

/** Nobody grants (or re-grants, or takes back) an organization role above their own. */
export function assertCanGrant(callerRole: OrgRole, role: OrgRole, doing = "invite at"): void {
  if (!canGrantOrgRole(callerRole, role)) {
    throw new ApiError(
      "ROLE_ABOVE_OWN",
      `You cannot ${doing} the organization role ${role}: it is above your own (${callerRole}).`,
    );
  }
}

/** The caller's roles beside an invite they act on by id (resend, revoke). */
export interface InviteManagerRoles {
  caller_org_role: OrgRole | null;
  caller_project_role: ProjectRole | null;
}

/**
 * An invite as its managers see it: organization members with `permission`, or admins of the
 * invite's project. Anyone else — other organizations included — gets 404 (no existence oracle).
 * guards.ts's `managesInvite` is the same decision (with the rank rule) in SQL.
 */
export function authorizeManagedInvite<R extends InviteManagerRoles>(
  row: R | undefined,
  permission: OrgPermission,
): R & { caller_org_role: OrgRole } {
  if (
    row === undefined ||
    row.caller_org_role === null ||
    (!hasPermission(row.caller_org_role, permission) && row.caller_project_role !== "admin")
  ) {
    throw new ApiError("INVITE_NOT_FOUND", "No such invite.");
  }
  return row as R & { caller_org_role: OrgRole };
}

/**
 * Managing another project member: the project's managers, on members not above their org rank.
 * guards.ts's `notOutranked` is the same rank rule in SQL.
 */
export function assertCanManageProjectMember(access: ProjectAccess, targetOrgRole: OrgRole | null): void {
  assertCanManageProject(access);
  if (targetOrgRole === null || !canManageProjectMember(access.orgRole, targetOrgRole)) {
    throw new ApiError(
      "FORBIDDEN",
      `An organization ${access.orgRole} cannot manage a project member who is its ${targetOrgRole ?? "non-member"}.`,
    );
  }
}
