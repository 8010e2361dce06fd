import {
  assertCanManageProject,
  assertCanManageProjectMember,
  type OrgAccessRow,
  orgAccessFromRow,
  orgAccessStatement,
  type ProjectAccess,
  type ProjectAccessRow,
  projectAccessFromRow,
  projectAccessStatement,
  requireOrgPermission,
  requireProjectAccess,
} from "./access";
import { auditStatementIf } from "./audit";
import { batch, changes, type Db } from "./db";
import { ApiError } from "./errors";
import { newId } from "./ids";
import { allOf, holdsOrgRole, retryOnRace, rolesWith, type SqlGuard } from "./memberships";
import { afterNumericCursor, type Page, type PageQuery, toPage } from "./pagination";
import { type OrgRole, orgRankSql, type ProjectRole } from "./roles";
import { displayEmailSql } from "./users";
import { type Member, type MemberRow, type Project, type ProjectRow, toMember, toProject } from "./views";

/**
 * Projects and their members. A project belongs to one organization; its members hold a project
 * role and are always members of that organization. Project admins, and organization members
 * with projects:read_all, manage a project's members. Writes are guarded like memberships.ts's:
 * the write restates what the read decided on and is re-decided when it lost a race.
 */

/** "`userId` may still manage `projectId`": a project admin, or an organization role with read_all. */
function managesProject(orgId: string, projectId: string, userId: string): SqlGuard {
  const readAll = holdsOrgRole(orgId, userId, rolesWith("projects:read_all"));
  return {
    sql: `${readAll.sql} OR EXISTS (SELECT 1 FROM project_admins WHERE project_id = ? AND admin_id = ? AND role = 'admin')`,
    params: [...readAll.params, projectId, userId],
  };
}

/** "`userId` still holds `role` in `projectId`." */
function holdsProjectRole(projectId: string, userId: string, role: ProjectRole): SqlGuard {
  return {
    sql: "EXISTS (SELECT 1 FROM project_admins WHERE project_id = ? AND admin_id = ? AND role = ?)",
    params: [projectId, userId, role],
  };
}

/**
 * "`targetId`'s organization rank is not above `actorId`'s" (roles.ts canManageProjectMember), read
 * by SQLite inside the write, so a promotion or demotion racing the request cannot slip past it.
 */
function notOutranked(orgId: string, actorId: string, targetId: string): SqlGuard {
  const rankOf = `(SELECT ${orgRankSql("role")} FROM organization_users WHERE organization_id = ? AND user_id = ?)`;
  return { sql: `${rankOf} <= ${rankOf}`, params: [orgId, targetId, orgId, actorId] };
}

/** The project member, with their organization role (the rank rule reads it). */
function projectMemberStatement(db: Db, projectId: string, userId: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT pa.admin_id AS user_id, ${displayEmailSql("a")} AS email, a.name, pa.role, pa.created_at, ou.role AS org_role
       FROM project_admins pa JOIN admins a ON a.id = pa.admin_id JOIN projects p ON p.id = pa.project_id
       LEFT JOIN organization_users ou ON ou.organization_id = p.organization_id AND ou.user_id = pa.admin_id
       WHERE pa.project_id = ? AND pa.admin_id = ?`,
    )
    .bind(projectId, userId);
}

export interface NewProject {
  orgId: string;
  actorId: string;
  name: string;
  now: number;
}

/**
 * POST a project (projects:create); its creator becomes its `admin`. Two round trips: the access
 * read, then one batch: project, admin membership and audit events, all guarded by "the creator
 * still holds a role with projects:create".
 */
export async function createProject(db: Db, input: NewProject): Promise<Project> {
  const { orgId, actorId, name, now } = input;
  return await retryOnRace(async () => {
    await requireOrgPermission(db, orgId, actorId, "projects:create");
    const id = newId("project");
    const guard = holdsOrgRole(orgId, actorId, rolesWith("projects:create"));
    const [created] = await batch(db, [
      db
        .prepare(`INSERT INTO projects (id, organization_id, name, created_at) SELECT ?, ?, ?, ? WHERE (${guard.sql})`)
        .bind(id, orgId, name, now, ...guard.params),
      db
        .prepare(
          `INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at)
           SELECT ?, ?, 'admin', ?, ? WHERE (${guard.sql})`,
        )
        .bind(id, actorId, now, now, ...guard.params),
      auditStatementIf(
        db,
        {
          organizationId: orgId,
          actorId,
          action: "project.created",
          target: { type: "project", id },
          data: { name },
          at: now,
        },
        guard.sql,
        guard.params,
      ),
      auditStatementIf(
        db,
        {
          organizationId: orgId,
          actorId,
          action: "project_member.added",
          target: { type: "project_member", id: actorId },
          data: { projectId: id, role: "admin", reason: "created_project" },
          at: now,
        },
        guard.sql,
        guard.params,
      ),
    ]);
    if (created === undefined || changes(created) === 0) return undefined;
    return toProject({ id, organization_id: orgId, name, created_at: now }, "admin");
  });
}

/**
 * The organization's projects the caller may see: all of them with projects:read_all, else the
 * ones they are a member of; `role` is the caller's project role or null. One round trip: the
 * access read and the page go in one batch (the page query applies the visibility rule itself).
 */
export async function listProjects(db: Db, orgId: string, userId: string, page: PageQuery): Promise<Page<Project>> {
  const after = afterNumericCursor(page.cursor, "p.created_at", "p.id");
  const readAll = holdsOrgRole(orgId, userId, rolesWith("projects:read_all"));
  const [accessResult, listResult] = await batch(db, [
    orgAccessStatement(db, orgId, userId),
    db
      .prepare(
        `SELECT p.id, p.organization_id, p.name, p.created_at, pa.role
         FROM projects p LEFT JOIN project_admins pa ON pa.project_id = p.id AND pa.admin_id = ?
         WHERE p.organization_id = ? AND (pa.role IS NOT NULL OR ${readAll.sql}) AND ${after.sql}
         ORDER BY p.created_at, p.id LIMIT ?`,
      )
      .bind(userId, orgId, ...readAll.params, ...after.params, page.limit + 1),
  ]);
  orgAccessFromRow(accessResult?.results[0] as OrgAccessRow | undefined);
  return toPage(
    (listResult?.results ?? []) as (ProjectRow & { role: ProjectRole | null })[],
    page.limit,
    (row) => [row.created_at, row.id],
    (row) => toProject(row, row.role),
  );
}

/** GET a project the caller may see (404 otherwise). One round trip. */
export async function getProject(db: Db, projectId: string, userId: string): Promise<Project> {
  const access = await requireProjectAccess(db, projectId, userId);
  return toProject(access.project, access.projectRole);
}

/** The project's members, for anyone who can see the project. One round trip. */
export async function listProjectMembers(
  db: Db,
  projectId: string,
  userId: string,
  page: PageQuery,
): Promise<Page<Member<ProjectRole>>> {
  const after = afterNumericCursor(page.cursor, "pa.created_at", "pa.admin_id");
  const [accessResult, listResult] = await batch(db, [
    projectAccessStatement(db, projectId, userId),
    db
      .prepare(
        `SELECT pa.admin_id AS user_id, ${displayEmailSql("a")} AS email, a.name, pa.role, pa.created_at
         FROM project_admins pa JOIN admins a ON a.id = pa.admin_id
         WHERE pa.project_id = ? AND ${after.sql}
         ORDER BY pa.created_at, pa.admin_id LIMIT ?`,
      )
      .bind(projectId, ...after.params, page.limit + 1),
  ]);
  projectAccessFromRow(accessResult?.results[0] as ProjectAccessRow | undefined);
  return toPage(
    (listResult?.results ?? []) as MemberRow[],
    page.limit,
    (row) => [row.created_at, row.user_id],
    (row) => toMember<ProjectRole>(row),
  );
}

type ProjectMemberRow = MemberRow & { role: ProjectRole; org_role: OrgRole | null };

interface ProjectMemberState {
  access: ProjectAccess;
  target: ProjectMemberRow | null;
}

/** One round trip: the caller's view of the project and the target's project membership. */
async function readProjectMemberState(
  db: Db,
  projectId: string,
  actorId: string,
  targetId: string,
): Promise<ProjectMemberState> {
  const [accessResult, targetResult] = await batch(db, [
    projectAccessStatement(db, projectId, actorId),
    projectMemberStatement(db, projectId, targetId),
  ]);
  return {
    access: projectAccessFromRow(accessResult?.results[0] as ProjectAccessRow | undefined),
    target: (targetResult?.results[0] as ProjectMemberRow | undefined) ?? null,
  };
}

export interface ProjectRoleChange {
  projectId: string;
  actorId: string;
  targetId: string;
  role: ProjectRole;
  now: number;
}

/**
 * PATCH a project member's role (project admins and organization managers, on members whose
 * organization rank is not above theirs). Two round trips. Project roles have no rank rule of
 * their own: a project admin may make or unmake admins, including the last one (organization
 * managers can always manage the project).
 */
export async function changeProjectMemberRole(db: Db, change: ProjectRoleChange): Promise<Member<ProjectRole>> {
  const { projectId, actorId, targetId, role, now } = change;
  return await retryOnRace(async () => {
    const { access, target } = await readProjectMemberState(db, projectId, actorId, targetId);
    assertCanManageProject(access);
    if (target === null) throw new ApiError("NOT_FOUND", "No such project member.");
    assertCanManageProjectMember(access, target.org_role);
    if (target.role === role) return toMember<ProjectRole>(target);
    const orgId = access.organization.id;
    const guard = allOf(
      managesProject(orgId, projectId, actorId),
      notOutranked(orgId, actorId, targetId),
      holdsProjectRole(projectId, targetId, target.role),
    );
    const [, update, updated] = await batch(db, [
      auditStatementIf(
        db,
        {
          organizationId: orgId,
          actorId,
          action: "project_member.role_changed",
          target: { type: "project_member", id: targetId },
          data: { projectId, from: target.role, to: role },
          at: now,
        },
        guard.sql,
        guard.params,
      ),
      db
        .prepare(
          `UPDATE project_admins SET role = ?, updated_at = ? WHERE project_id = ? AND admin_id = ? AND (${guard.sql})`,
        )
        .bind(role, now, projectId, targetId, ...guard.params),
      projectMemberStatement(db, projectId, targetId),
    ]);
    if (update === undefined || changes(update) === 0) return undefined;
    return toMember<ProjectRole>(updated?.results[0] as MemberRow);
  });
}

export interface ProjectRemoval {
  projectId: string;
  actorId: string;
  targetId: string;
  now: number;
}

/**
 * DELETE a project member: removal by someone who manages the project, or leaving when the target
 * is the caller (any project member may leave). The organization membership stays. Two round trips.
 */
export async function removeProjectMember(db: Db, removal: ProjectRemoval): Promise<void> {
  const { projectId, actorId, targetId, now } = removal;
  const leaving = actorId === targetId;
  await retryOnRace(async () => {
    const { access, target } = await readProjectMemberState(db, projectId, actorId, targetId);
    if (!leaving) assertCanManageProject(access);
    if (target === null) throw new ApiError("NOT_FOUND", "No such project member.");
    if (!leaving) assertCanManageProjectMember(access, target.org_role);
    const orgId = access.organization.id;
    const targetGuard = holdsProjectRole(projectId, targetId, target.role);
    const guard = leaving
      ? targetGuard
      : allOf(managesProject(orgId, projectId, actorId), notOutranked(orgId, actorId, targetId), targetGuard);
    const [, deleted] = await batch(db, [
      auditStatementIf(
        db,
        {
          organizationId: orgId,
          actorId,
          action: leaving ? "project_member.left" : "project_member.removed",
          target: { type: "project_member", id: targetId },
          data: { projectId, role: target.role },
          at: now,
        },
        guard.sql,
        guard.params,
      ),
      db
        .prepare(`DELETE FROM project_admins WHERE project_id = ? AND admin_id = ? AND (${guard.sql})`)
        .bind(projectId, targetId, ...guard.params),
    ]);
    return deleted !== undefined && changes(deleted) > 0 ? true : undefined;
  });
}
