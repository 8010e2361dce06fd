import { orgAccessStatement, projectAccessStatement } from "../access";
import type { Db } from "../db";
import { ApiError } from "../errors";
import type { OrgRole, ProjectRole } from "../roles";
import { prepare, type SQL, sql } from "../sql";
import { INVITE_COLUMNS, INVITE_FROM, type InviteRow, type InviteStatus } from "./views";

/** Where an invite leads: an organization, or a project (and its organization). */
export type InviteScope = { kind: "organization"; orgId: string } | { kind: "project"; projectId: string };

export const DAY_MS = 86_400_000;

/** The scope's organization id in SQL (a project invite learns it from the project). */
export function scopeOrgIdSql(scope: InviteScope): SQL {
  return scope.kind === "organization"
    ? sql`${scope.orgId}`
    : sql`(SELECT organization_id FROM projects WHERE id = ${scope.projectId})`;
}

/** access.ts's read of the caller's roles for the scope, to batch with the use case's own reads. */
export function scopeAccessStatement(db: Db, scope: InviteScope, userId: string): D1PreparedStatement {
  return scope.kind === "organization"
    ? orgAccessStatement(db, scope.orgId, userId)
    : projectAccessStatement(db, scope.projectId, userId);
}

/** An invite beside the roles of the caller who acts on it by id (resend, revoke). */
export type ManagedInviteRow = InviteRow & { caller_org_role: OrgRole | null; caller_project_role: ProjectRole | null };

/** `FROM` the invite with the caller's roles joined (`ou`, `pa`): what `authorizeManagedInvite` reads. */
export function managedInviteFrom(userId: string): SQL {
  return sql`FROM ${sql.raw(INVITE_FROM)}
    LEFT JOIN organization_users ou ON ou.organization_id = i.organization_id AND ou.user_id = ${userId}
    LEFT JOIN project_admins pa ON pa.project_id = i.project_id AND pa.admin_id = ${userId}`;
}

/** The invite and the caller's roles, as the first statement of a by-id batch. */
export function managedInviteStatement(
  db: Db,
  inviteId: string,
  userId: string,
  extra: SQL = sql``,
): D1PreparedStatement {
  return prepare(
    db,
    sql`SELECT ${sql.raw(INVITE_COLUMNS)}, ou.role AS caller_org_role, pa.role AS caller_project_role ${extra}
        ${managedInviteFrom(userId)}
        WHERE i.id = ${inviteId}`,
  );
}

/** The error for a transition out of a finished invite (resend and revoke). */
export function finishedInviteError(status: InviteStatus): ApiError {
  switch (status) {
    case "accepted":
      return new ApiError("INVITE_ALREADY_ACCEPTED", "This invite has already been accepted.");
    case "declined":
      return new ApiError("INVITE_DECLINED", "This invite was declined; send a new invite instead.");
    case "revoked":
      return new ApiError("INVITE_REVOKED", "This invite was revoked; send a new invite instead.");
    default:
      return new ApiError("CONFLICT", "The invite changed meanwhile; try again.");
  }
}

export function alreadyPendingError(): ApiError {
  return new ApiError(
    "INVITE_ALREADY_PENDING",
    "Another pending invite exists for this address in this organization or project; resend that one instead.",
  );
}
