import { assertOrgPermission, type OrgAccessRow, orgAccessFromRow, orgAccessStatement } from "./access";
import { auditRowsStatement, auditStatement } from "./audit";
import { changes, type Db, iso } from "./db";
import { domainRefusal } from "./domain-names";
import { ApiError } from "./errors";
import { holdsOrgRole, orgRolesWith } from "./guards";
import { newId } from "./ids";
import type { OrgPermission } from "./roles";
import { prepare, type SQL, sql } from "./sql";

/**
 * An organization's email domains: claim, list, change enrollment, remove. Each is one D1 round
 * trip: the caller's access is read in the same batch as the change, and every write is guarded
 * in SQL by the same permission (`roleInSql`), so a refused request writes nothing and the JS
 * checks on the first row only name the error. Audit rows sit in the batch, before the statement
 * they announce, guarded by the very condition that statement evaluates.
 */
export type Enrollment = "request" | "auto";
export const ENROLLMENTS = ["request", "auto"] as const;

export interface Domain {
  domain: string;
  enrollment: Enrollment;
  verifiedBy: string | null;
  createdAt: string;
}

interface DomainRow {
  domain: string;
  enrollment: Enrollment;
  verified_by: string | null;
  created_at: number;
}

function toDomain(row: DomainRow): Domain {
  return {
    domain: row.domain,
    enrollment: row.enrollment,
    verifiedBy: row.verified_by,
    createdAt: iso(row.created_at),
  };
}

/** The caller holds `permission` in the organization (guards.ts, from the one permission table). */
function callerMay(orgId: string, userId: string, permission: OrgPermission): SQL {
  return holdsOrgRole(orgId, userId, orgRolesWith(permission));
}

const DOMAIN_COLUMNS = sql`domain, enrollment, verified_by, created_at`;

/**
 * Claims a domain (org:update). Refused first when it is a public suffix or a free-mail domain
 * (400 DOMAIN_NOT_ALLOWED, decided on the name alone), then unless the caller holds a verified
 * address at it (403 DOMAIN_NOT_VERIFIED). Claiming a domain the organization already has answers
 * it unchanged (`created: false`).
 */
export async function addDomain(
  db: Db,
  input: { orgId: string; userId: string; domain: string; enrollment: Enrollment; now: number },
): Promise<{ domain: Domain; created: boolean }> {
  const { orgId, userId, domain, now } = input;
  const refusal = domainRefusal(domain);
  if (refusal !== null) throw new ApiError("DOMAIN_NOT_ALLOWED", refusal);
  const verified = sql`EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ${userId} AND ue.verified = 1
    AND substr(ue.email, instr(ue.email, '@') + 1) = ${domain})`;
  const absent = sql`NOT EXISTS (SELECT 1 FROM organization_domains WHERE organization_id = ${orgId} AND domain = ${domain})`;
  const go = sql`${callerMay(orgId, userId, "org:update")} AND ${verified} AND ${absent}`;
  const results = await db.batch([
    orgAccessStatement(db, orgId, userId),
    prepare(
      db,
      sql`SELECT ${verified} AS verified,
                 (SELECT json_object('domain', domain, 'enrollment', enrollment, 'verified_by', verified_by,
                                     'created_at', created_at)
                  FROM organization_domains WHERE organization_id = ${orgId} AND domain = ${domain}) AS existing`,
    ),
    auditStatement(
      db,
      {
        organizationId: orgId,
        actorId: userId,
        action: "domain.added",
        target: { type: "domain", id: domain },
        data: { domain, enrollment: input.enrollment },
        at: now,
      },
      go,
    ),
    prepare(
      db,
      sql`INSERT INTO organization_domains (organization_id, domain, enrollment, verified_by, created_at, updated_at)
          SELECT ${orgId}, ${domain}, ${input.enrollment}, ${userId}, ${now}, ${now} WHERE ${go}`,
    ),
  ]);
  assertOrgPermission(orgAccessFromRow(results[0]?.results[0] as OrgAccessRow | undefined), "org:update");
  const read = results[1]?.results[0] as { verified: number; existing: string | null } | undefined;
  if (read?.existing != null) return { domain: toDomain(JSON.parse(read.existing) as DomainRow), created: false };
  if (read?.verified !== 1) {
    throw new ApiError(
      "DOMAIN_NOT_VERIFIED",
      `Claim ${domain} with a verified address at it: add and verify one (you@${domain}), then try again.`,
    );
  }
  if (changes(results[3] as D1Result) !== 1)
    throw new ApiError("CONFLICT", "The domains changed meanwhile; try again.");
  return {
    domain: toDomain({ domain, enrollment: input.enrollment, verified_by: userId, created_at: now }),
    created: true,
  };
}

/** The organization's domains, by name (members; guests get 403). One round trip. */
export async function listDomains(db: Db, input: { orgId: string; userId: string }): Promise<Domain[]> {
  const [access, list] = await db.batch([
    orgAccessStatement(db, input.orgId, input.userId),
    prepare(
      db,
      sql`SELECT ${DOMAIN_COLUMNS} FROM organization_domains WHERE organization_id = ${input.orgId} ORDER BY domain`,
    ),
  ]);
  assertOrgPermission(orgAccessFromRow(access?.results[0] as OrgAccessRow | undefined), "org:read_members");
  return ((list?.results ?? []) as DomainRow[]).map(toDomain);
}

/**
 * Changes a domain's enrollment (org:update). Audited as `domain.updated` with the old and new
 * value, only when it changes. One round trip.
 */
export async function updateDomain(
  db: Db,
  input: { orgId: string; userId: string; domain: string; enrollment: Enrollment; now: number },
): Promise<Domain> {
  const { orgId, userId, domain, enrollment, now } = input;
  const go = callerMay(orgId, userId, "org:update");
  const changing = sql`FROM organization_domains WHERE organization_id = ${orgId} AND domain = ${domain}
    AND enrollment <> ${enrollment} AND ${go}`;
  const results = await db.batch([
    orgAccessStatement(db, orgId, userId),
    prepare(
      db,
      sql`SELECT ${DOMAIN_COLUMNS} FROM organization_domains WHERE organization_id = ${orgId} AND domain = ${domain}`,
    ),
    auditRowsStatement(db, [
      {
        action: "domain.updated",
        targetType: "domain",
        id: newId("auditEvent"),
        organizationId: orgId,
        actorId: userId,
        targetId: domain,
        data: sql`json_object('domain', ${domain}, 'from', enrollment, 'enrollment', ${enrollment})`,
        at: now,
        from: changing,
      },
    ]),
    prepare(
      db,
      sql`UPDATE organization_domains SET enrollment = ${enrollment}, updated_at = ${now}
          WHERE organization_id = ${orgId} AND domain = ${domain} AND enrollment <> ${enrollment} AND ${go}`,
    ),
  ]);
  assertOrgPermission(orgAccessFromRow(results[0]?.results[0] as OrgAccessRow | undefined), "org:update");
  const row = results[1]?.results[0] as DomainRow | undefined;
  if (row === undefined) throw new ApiError("NOT_FOUND", "This organization has no such domain.");
  return toDomain({ ...row, enrollment });
}

/** Removes a domain (org:update), audited as `domain.removed`. Unknown domain → 404. One round trip. */
export async function removeDomain(
  db: Db,
  input: { orgId: string; userId: string; domain: string; now: number },
): Promise<void> {
  const { orgId, userId, domain, now } = input;
  const removing = sql`FROM organization_domains WHERE organization_id = ${orgId} AND domain = ${domain}
    AND ${callerMay(orgId, userId, "org:update")}`;
  const results = await db.batch([
    orgAccessStatement(db, orgId, userId),
    auditRowsStatement(db, [
      {
        action: "domain.removed",
        targetType: "domain",
        id: newId("auditEvent"),
        organizationId: orgId,
        actorId: userId,
        targetId: domain,
        data: sql`json_object('domain', ${domain}, 'enrollment', enrollment)`,
        at: now,
        from: removing,
      },
    ]),
    prepare(db, sql`DELETE ${removing}`),
  ]);
  assertOrgPermission(orgAccessFromRow(results[0]?.results[0] as OrgAccessRow | undefined), "org:update");
  if (changes(results[2] as D1Result) !== 1) throw new ApiError("NOT_FOUND", "This organization has no such domain.");
}
