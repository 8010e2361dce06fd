import type { Db } from "./db";

/**
 * Deleting an organization, as statements for the caller's batch. Projects go first: the legacy
 * projects table has no cascading foreign key, while project_admins, organization_users and
 * invites cascade from projects and organizations. Audit events stay (history outlives rows).
 * `guard`, when given, is a SQL condition (with its params) that must hold for anything to be
 * deleted, e.g. "the organization has no member left".
 */
export function deleteOrganizationStatements(
  db: Db,
  orgId: string,
  guard?: { sql: string; params: unknown[] },
): D1PreparedStatement[] {
  const where = guard ? ` AND (${guard.sql})` : "";
  const params = guard?.params ?? [];
  return [
    db.prepare(`DELETE FROM projects WHERE organization_id = ?${where}`).bind(orgId, ...params),
    db.prepare(`DELETE FROM organizations WHERE id = ?${where}`).bind(orgId, ...params),
  ];
}
