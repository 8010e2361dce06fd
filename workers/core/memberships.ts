import { assertOrgPermission, type OrgAccess, type OrgAccessRow, orgAccessFromRow, orgAccessStatement } from "./access";
import { auditStatement } from "./audit";
import { batch, changes, type Db } from "./db";
import { ApiError } from "./errors";
import { allOf, holdsOrgRole, notLastOwner } from "./guards";
import { afterNumericCursor, type Page, type PageQuery, toPage } from "./pagination";
import { canActOnMember, canGrantOrgRole, type OrgRole } from "./roles";
import { prepare, sql } from "./sql";
import { displayEmailSql } from "./users";
import { type Member, type MemberRow, toMember } from "./views";

/**
 * Organization memberships: listing, role changes, removal and leaving.
 *
 * Every change follows the same shape: one batched read (the caller's access, the target, the
 * owner count), the rules of roles.ts applied to it, then one write batch whose statements all
 * carry the same SQL guard restating what the read saw. If anything changed in between (a
 * concurrent demotion, the other owner leaving), the guard fails, nothing is written, and the
 * change is decided again from a fresh read: the rules hold even under races, in the database.
 */

/** Guarded writes that lose a race are re-decided from a fresh read at most this many times. */
const MAX_ATTEMPTS = 3;

/** Runs `attempt` until it returns a value; `undefined` means its guarded write lost a race. */
export async function retryOnRace<T>(attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const result = await attempt();
    if (result !== undefined) return result;
  }
  throw new ApiError("CONFLICT", "The resource kept changing while this request ran; try again.");
}

// The guard builders live in guards.ts; re-exported for the modules that import them from here.
export { allOf, holdsOrgRole, orgRolesWith as rolesWith } from "./guards";

function memberStatement(db: Db, orgId: string, userId: string): D1PreparedStatement {
  return prepare(
    db,
    sql`SELECT ou.user_id, ${displayEmailSql("a")} AS email, a.name, ou.role, ou.created_at
        FROM organization_users ou JOIN admins a ON a.id = ou.user_id
        WHERE ou.organization_id = ${orgId} AND ou.user_id = ${userId}`,
  );
}

function ownerCountStatement(db: Db, orgId: string): D1PreparedStatement {
  return db
    .prepare("SELECT count(*) AS owners FROM organization_users WHERE organization_id = ? AND role = 'owner'")
    .bind(orgId);
}

export interface MemberState {
  access: OrgAccess;
  target: (MemberRow & { role: OrgRole }) | null;
  owners: number;
  /** The target's memberships in this organization's projects (for leaving and removal). */
  projects: { project_id: string; role: string }[];
}

/** One round trip: the caller's access, the target member, the owner count, the target's projects. */
async function readMemberState(db: Db, orgId: string, actorId: string, targetId: string): Promise<MemberState> {
  const [accessResult, targetResult, ownersResult, projectsResult] = await batch(db, [
    orgAccessStatement(db, orgId, actorId),
    memberStatement(db, orgId, targetId),
    ownerCountStatement(db, orgId),
    db
      .prepare(
        `SELECT pa.project_id, pa.role FROM project_admins pa JOIN projects p ON p.id = pa.project_id
         WHERE p.organization_id = ? AND pa.admin_id = ? ORDER BY pa.project_id`,
      )
      .bind(orgId, targetId),
  ]);
  return {
    access: orgAccessFromRow(accessResult?.results[0] as OrgAccessRow | undefined),
    target: (targetResult?.results[0] as (MemberRow & { role: OrgRole }) | undefined) ?? null,
    owners: (ownersResult?.results[0] as { owners: number } | undefined)?.owners ?? 0,
    projects: (projectsResult?.results ?? []) as { project_id: string; role: string }[],
  };
}

/**
 * The guard every statement of a membership change carries: the actor and the target still hold
 * the roles the decision was made on, and the target is not the last owner.
 */
function memberChangeGuard(orgId: string, actor: OrgAccess, actorId: string, target: MemberRow & { role: OrgRole }) {
  return allOf(
    holdsOrgRole(orgId, actorId, [actor.role]),
    holdsOrgRole(orgId, target.user_id, [target.role]),
    notLastOwner(orgId, target.role),
  );
}

/** GET members: one round trip (access and page in one batch). Guests may not see who else is in. */
export async function listMembers(db: Db, orgId: string, userId: string, page: PageQuery): Promise<Page<Member>> {
  const after = afterNumericCursor(page.cursor, "ou.created_at", "ou.user_id");
  const [accessResult, listResult] = await batch(db, [
    orgAccessStatement(db, orgId, userId),
    prepare(
      db,
      sql`SELECT ou.user_id, ${displayEmailSql("a")} AS email, a.name, ou.role, ou.created_at
          FROM organization_users ou JOIN admins a ON a.id = ou.user_id
          WHERE ou.organization_id = ${orgId} AND ${after}
          ORDER BY ou.created_at, ou.user_id LIMIT ${page.limit + 1}`,
    ),
  ]);
  assertOrgPermission(orgAccessFromRow(accessResult?.results[0] as OrgAccessRow | undefined), "org:read_members");
  return toPage(
    (listResult?.results ?? []) as MemberRow[],
    page.limit,
    (row) => [row.created_at, row.user_id],
    (row) => toMember<OrgRole>(row),
  );
}

export interface RoleChange {
  orgId: string;
  actorId: string;
  targetId: string;
  role: OrgRole;
  now: number;
}

/**
 * PATCH a member's role. Two round trips: the state read, then the guarded write batch (audit
 * event, update, and the member as it now is).
 */
export async function changeMemberRole(db: Db, change: RoleChange): Promise<Member> {
  const { orgId, actorId, targetId, role, now } = change;
  return await retryOnRace(async () => {
    const { access, target, owners } = await readMemberState(db, orgId, actorId, targetId);
    assertOrgPermission(access, "members:update_role");
    if (target === null) throw new ApiError("NOT_FOUND", "No such member.");
    if (!canActOnMember(access.role, target.role)) {
      throw new ApiError("FORBIDDEN", `A ${access.role} cannot change the role of a ${target.role}.`);
    }
    if (!canGrantOrgRole(access.role, role)) {
      throw new ApiError("ROLE_ABOVE_OWN", `A ${access.role} cannot grant the ${role} role.`);
    }
    if (target.role === role) return toMember<OrgRole>(target);
    if (target.role === "owner" && owners <= 1) {
      throw new ApiError("LAST_OWNER", "The last owner cannot be demoted; make another member owner first.");
    }
    const guard = memberChangeGuard(orgId, access, actorId, target);
    const [, update, updated] = await batch(db, [
      // The audit row goes first, under the same guard as the update: it is written exactly
      // when the update is (both see the same state inside the batch's transaction).
      auditStatement(
        db,
        {
          organizationId: orgId,
          actorId,
          action: "member.role_changed",
          target: { type: "member", id: targetId },
          data: { from: target.role, to: role },
          at: now,
        },
        guard,
      ),
      prepare(
        db,
        sql`UPDATE organization_users SET role = ${role}, updated_at = ${now}
            WHERE organization_id = ${orgId} AND user_id = ${targetId} AND (${guard})`,
      ),
      memberStatement(db, orgId, targetId),
    ]);
    if (update === undefined || changes(update) === 0) return undefined;
    return toMember<OrgRole>(updated?.results[0] as MemberRow);
  });
}

export interface Removal {
  orgId: string;
  actorId: string;
  targetId: string;
  now: number;
}

/**
 * The write batch of a removal or departure, given the state it was decided on: audit events,
 * the user's project memberships in this organization, then the membership itself, every
 * statement under the same guard. Exported so tests can run two batches planned from the same
 * (stale) state and see the guard refuse the second.
 */
export function removalStatements(db: Db, state: MemberState, removal: Removal): D1PreparedStatement[] {
  const { orgId, actorId, targetId, now } = removal;
  const target = state.target;
  if (target === null) throw new ApiError("NOT_FOUND", "No such member.");
  const leaving = actorId === targetId;
  const guard = memberChangeGuard(orgId, state.access, actorId, target);
  const audit = (action: "member.left" | "member.removed") =>
    auditStatement(
      db,
      {
        organizationId: orgId,
        actorId,
        action,
        target: { type: "member", id: targetId },
        data: { role: target.role, projects: state.projects.map((p) => p.project_id) },
        at: now,
      },
      guard,
    );
  // One event per project membership that goes with the organization membership.
  const projectEvents = state.projects.map((p) =>
    auditStatement(
      db,
      {
        organizationId: orgId,
        actorId,
        action: leaving ? "project_member.left" : "project_member.removed",
        target: { type: "project_member", id: targetId },
        data: {
          projectId: p.project_id,
          role: p.role,
          reason: leaving ? "left_organization" : "removed_from_organization",
        },
        at: now,
      },
      sql`(${guard}) AND EXISTS (SELECT 1 FROM project_admins WHERE project_id = ${p.project_id} AND admin_id = ${targetId})`,
    ),
  );
  return [
    audit(leaving ? "member.left" : "member.removed"),
    ...projectEvents,
    // A project member is always an organization member: the project memberships go in the same
    // transaction, before the organization membership the guard reads.
    prepare(
      db,
      sql`DELETE FROM project_admins
          WHERE admin_id = ${targetId} AND project_id IN (SELECT id FROM projects WHERE organization_id = ${orgId})
            AND (${guard})`,
    ),
    prepare(
      db,
      sql`DELETE FROM organization_users WHERE organization_id = ${orgId} AND user_id = ${targetId} AND (${guard})`,
    ),
  ];
}

/** The state a removal is decided on, with the rules applied (throws when they forbid it). */
export async function planRemoval(db: Db, removal: Removal): Promise<MemberState> {
  const state = await readMemberState(db, removal.orgId, removal.actorId, removal.targetId);
  const { access, target, owners } = state;
  if (removal.actorId !== removal.targetId) {
    assertOrgPermission(access, "members:remove");
    if (target === null) throw new ApiError("NOT_FOUND", "No such member.");
    if (!canActOnMember(access.role, target.role)) {
      throw new ApiError("FORBIDDEN", `A ${access.role} cannot remove a ${target.role}.`);
    }
  }
  // Leaving: any member may leave; the caller's own membership is the target.
  if (target === null) throw new ApiError("NOT_FOUND", "No such member.");
  if (target.role === "owner" && owners <= 1) {
    throw new ApiError("LAST_OWNER", "The last owner cannot leave or be removed; make another member owner first.");
  }
  return state;
}

/**
 * DELETE a member: removal by a manager, or leaving when the target is the caller. Two round
 * trips: the state read and the guarded write batch.
 */
export async function removeMember(db: Db, removal: Removal): Promise<void> {
  await retryOnRace(async () => {
    const state = await planRemoval(db, removal);
    const results = await batch(db, removalStatements(db, state, removal));
    const deleted = results[results.length - 1];
    return deleted !== undefined && changes(deleted) > 0 ? true : undefined;
  });
}
