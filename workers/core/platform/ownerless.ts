import { auditRowsStatement } from "../audit";
import type { Config } from "../config";
import { changes, type Db } from "../db";
import { ApiError } from "../errors";
import { newId } from "../ids";
import { afterNumericCursor, type Page, type PageQuery, toPage } from "../pagination";
import { requirePlatformAdmin } from "../platform-admins";
import type { OrgRole } from "../roles";
import { prepare, sql } from "../sql";
import { displayEmailSql } from "../users";
import {
  type Member,
  type MemberRow,
  type Organization,
  type OrganizationRow,
  toMember,
  toOrganization,
} from "../views";

/** SQL: the organization `o` has no owner (e.g. a legacy organization no admin pointed at). */
const OWNERLESS_SQL = sql`NOT EXISTS (SELECT 1 FROM organization_users ow WHERE ow.organization_id = o.id AND ow.role = 'owner')`;

export type OwnerlessOrganization = Omit<Organization, "role"> & { role: null };

/** `GET /v1/platform/organizations?ownerless=true`: organizations without an owner, oldest first. */
export async function listOwnerless(
  db: Db,
  config: Config,
  userId: string,
  page: PageQuery,
): Promise<Page<OwnerlessOrganization>> {
  requirePlatformAdmin(config, userId);
  const after = afterNumericCursor(page.cursor, "o.created_at", "o.id");
  const rows = (
    await prepare(
      db,
      sql`SELECT o.id, o.name, o.slug, o.created_at, o.max_members FROM organizations o
          WHERE ${OWNERLESS_SQL} AND ${after} ORDER BY o.created_at, o.id LIMIT ${page.limit + 1}`,
    ).all<OrganizationRow>()
  ).results;
  return toPage(
    rows,
    page.limit,
    (r) => [r.created_at, r.id],
    (r) => ({ ...toOrganization(r, "owner"), role: null }),
  );
}

/**
 * `POST /v1/platform/organizations/{orgId}/owner`: gives an ownerless organization its owner, in
 * one batch guarded by "still ownerless" — the user joins as owner, or an existing member is
 * promoted — with its audit event, then the read that tells which refusal applies.
 */
export async function assignOwner(
  db: Db,
  config: Config,
  input: { operatorId: string; orgId: string; userId: string; now: number },
): Promise<Member> {
  requirePlatformAdmin(config, input.operatorId);
  const { orgId, userId, now } = input;
  const candidate = sql`FROM organizations o JOIN admins a ON a.id = ${userId}
    LEFT JOIN organization_users m ON m.organization_id = o.id AND m.user_id = a.id
    WHERE o.id = ${orgId} AND ${OWNERLESS_SQL}`;
  const audit = {
    targetType: "member",
    actorId: input.operatorId,
    targetId: userId,
    organizationId: sql`o.id`,
    at: now,
  } as const;
  const results = await db.batch([
    // Exactly one of the two rows can be written: the user joins as owner, or a member is promoted.
    auditRowsStatement(db, [
      {
        ...audit,
        action: "member.added",
        id: newId("auditEvent"),
        data: sql`json_object('role', 'owner', 'via', 'platform_operator')`,
        from: sql`${candidate} AND m.user_id IS NULL`,
      },
      {
        ...audit,
        action: "member.role_changed",
        id: newId("auditEvent"),
        data: sql`json_object('from', m.role, 'to', 'owner', 'via', 'platform_operator')`,
        from: sql`${candidate} AND m.user_id IS NOT NULL`,
      },
    ]),
    prepare(
      db,
      sql`INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
          SELECT o.id, a.id, 'owner', ${now}, ${now} FROM organizations o JOIN admins a ON a.id = ${userId}
          WHERE o.id = ${orgId} AND ${OWNERLESS_SQL}
          ON CONFLICT (organization_id, user_id) DO UPDATE SET role = 'owner', updated_at = excluded.updated_at`,
    ),
    prepare(
      db,
      sql`SELECT o.id AS org_id, a.id AS user_id, a.name, ${displayEmailSql("a")} AS email, ou.role, ou.created_at
          FROM (SELECT ${orgId} AS org, ${userId} AS usr) x
          LEFT JOIN organizations o ON o.id = x.org
          LEFT JOIN admins a ON a.id = x.usr
          LEFT JOIN organization_users ou ON ou.organization_id = o.id AND ou.user_id = a.id`,
    ),
  ]);
  const row = results[2]?.results[0] as (MemberRow & { org_id: string | null; user_id: string | null }) | undefined;
  if (row?.org_id == null) throw new ApiError("NOT_FOUND", "No such organization.");
  if (row.user_id == null) throw new ApiError("NOT_FOUND", "No such user.");
  if (changes(results[1] as D1Result) === 0) throw new ApiError("CONFLICT", "This organization already has an owner.");
  return toMember<OrgRole>(row);
}
