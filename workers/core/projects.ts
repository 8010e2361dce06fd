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
import { auditStatement } from "./audit";
import { batch, changes, type Db } from "./db";
import { ApiError } from "./errors";
import { allOf, holdsOrgRole, holdsProjectRole, managesProject, notOutranked, orgRolesWith } from "./guards";
import { newId } from "./ids";
import { retryOnRace } from "./memberships";
import { afterNumericCursor, type Page, type PageQuery, toPage } from "./pagination";
import { assertReadWithin, type RateWindow, rateCountStatement, rateGuard, rateIncrementStatement } from "./rate-limit";
import type { OrgRole, ProjectRole } from "./roles";
import { prepare, sql } from "./sql";
import { displayEmailSql } from "./users";
import { type Member, type MemberRow, type Project, type ProjectRow, toMember, toProject } from "./views";

/**
 * Projects and their members. A project belongs to one organization; its members hold a project
 * role and are always members of that organization. Project admins, and organization members
 * with projects:read_all, manage a project's members. Writes are guarded like memberships.ts's:
 * the write restates what the read decided on and is re-decided when it lost a race.
 */

/** The project member, with their organization role (the rank rule reads it). */
function projectMemberStatement(db: Db, projectId: string, userId: string): D1PreparedStatement {
  return prepare(
    db,
    sql`SELECT pa.admin_id AS user_id, ${displayEmailSql("a")} AS email, a.name, pa.role, pa.created_at, ou.role AS org_role
        FROM project_admins pa JOIN admins a ON a.id = pa.admin_id JOIN projects p ON p.id = pa.project_id
        LEFT JOIN organization_users ou ON ou.organization_id = p.organization_id AND ou.user_id = pa.admin_id
        WHERE pa.project_id = ${projectId} AND pa.admin_id = ${userId}`,
  );
}

export interface NewProject {
  orgId: string;
  actorId: string;
  name: string;
  now: number;
  /** The caller's create window (`createWindow`): a create over it is 429 and writes nothing. */
  rate: RateWindow;
}

/**
 * POST a project (projects:create); its creator becomes its `admin`. Two round trips: the access
 * read, then one batch: the rate counter's increment, then project, admin membership and audit
 * events, all guarded by "the creator still holds a role with projects:create" and "the create
 * window is within its limit", and the window's count (what explains a refusal).
 */
export async function createProject(db: Db, input: NewProject): Promise<Project> {
  const { orgId, actorId, name, now, rate } = input;
  return await retryOnRace(async () => {
    await requireOrgPermission(db, orgId, actorId, "projects:create");
    const id = newId("project");
    const guard = allOf(holdsOrgRole(orgId, actorId, orgRolesWith("projects:create")), rateGuard([rate]));
    const [, created, , , , count] = await batch(db, [
      rateIncrementStatement(db, rate, 1),
      prepare(
        db,
        sql`INSERT INTO projects (id, organization_id, name, created_at) SELECT ${id}, ${orgId}, ${name}, ${now} WHERE (${guard})`,
      ),
      prepare(
        db,
        sql`INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at)
            SELECT ${id}, ${actorId}, 'admin', ${now}, ${now} WHERE (${guard})`,
      ),
      auditStatement(
        db,
        {
          organizationId: orgId,
          actorId,
          action: "project.created",
          target: { type: "project", id },
          data: { name },
          at: now,
        },
        guard,
      ),
      auditStatement(
        db,
        {
          organizationId: orgId,
          actorId,
          action: "project_member.added",
          target: { type: "project_member", id: actorId },
          data: { projectId: id, role: "admin", reason: "created_project" },
          at: now,
        },
        guard,
      ),
      rateCountStatement(db, [rate]),
    ]);
    if (created === undefined || changes(created) === 0) {
      assertReadWithin([rate], count, now);
      return undefined;
    }
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
  const readAll = holdsOrgRole(orgId, userId, orgRolesWith("projects:read_all"));
  const [accessResult, listResult] = await batch(db, [
    orgAccessStatement(db, orgId, userId),
    prepare(
      db,
      sql`SELECT p.id, p.organization_id, p.name, p.created_at, pa.role
          FROM projects p LEFT JOIN project_admins pa ON pa.project_id = p.id AND pa.admin_id = ${userId}
          WHERE p.organization_id = ${orgId} AND (pa.role IS NOT NULL OR ${readAll}) AND ${after}
          ORDER BY p.created_at, p.id LIMIT ${page.limit + 1}`,
    ),
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
    prepare(
      db,
      sql`SELECT pa.admin_id AS user_id, ${displayEmailSql("a")} AS email, a.name, pa.role, pa.created_at
          FROM project_admins pa JOIN admins a ON a.id = pa.admin_id
          WHERE pa.project_id = ${projectId} AND ${after}
          ORDER BY pa.created_at, pa.admin_id LIMIT ${page.limit + 1}`,
    ),
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
      auditStatement(
        db,
        {
          organizationId: orgId,
          actorId,
          action: "project_member.role_changed",
          target: { type: "project_member", id: targetId },
          data: { projectId, from: target.role, to: role },
          at: now,
        },
        guard,
      ),
      prepare(
        db,
        sql`UPDATE project_admins SET role = ${role}, updated_at = ${now}
            WHERE project_id = ${projectId} AND admin_id = ${targetId} AND (${guard})`,
      ),
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
      auditStatement(
        db,
        {
          organizationId: orgId,
          actorId,
          action: leaving ? "project_member.left" : "project_member.removed",
          target: { type: "project_member", id: targetId },
          data: { projectId, role: target.role },
          at: now,
        },
        guard,
      ),
      prepare(
        db,
        sql`DELETE FROM project_admins WHERE project_id = ${projectId} AND admin_id = ${targetId} AND (${guard})`,
      ),
    ]);
    return deleted !== undefined && changes(deleted) > 0 ? true : undefined;
  });
}
