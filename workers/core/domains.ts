import { assertOrgPermission, type OrgAccessRow, orgAccessFromRow, orgAccessStatement } from "./access";
import { auditStatementIf } from "./audit";
import { changes, type Db, iso } from "./db";
import { domainRefusal } from "./domain-names";
import { ApiError } from "./errors";
import { newId } from "./ids";
import { hasPermission, ORG_ROLES, type OrgPermission } from "./roles";

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

/** `ou.role IN (…)`: the roles holding `permission`, from the one permission table. */
function roleInSql(permission: OrgPermission): string {
  return `ou.role IN (${ORG_ROLES.filter((r) => hasPermission(r, permission))
    .map((r) => `'${r}'`)
    .join(", ")})`;
}

/** The caller holds `permission` in the organization (SQL over `?` org id, `?` user id). */
function callerMaySql(permission: OrgPermission): string {
  return `EXISTS (SELECT 1 FROM organization_users ou WHERE ou.organization_id = ? AND ou.user_id = ? AND ${roleInSql(permission)})`;
}

const DOMAIN_COLUMNS = "domain, enrollment, verified_by, created_at";

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
  const verifiedSql = `EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ? AND ue.verified = 1
    AND substr(ue.email, instr(ue.email, '@') + 1) = ?)`;
  const absentSql = "NOT EXISTS (SELECT 1 FROM organization_domains WHERE organization_id = ? AND domain = ?)";
  const go = {
    sql: `${callerMaySql("org:update")} AND ${verifiedSql} AND ${absentSql}`,
    params: [orgId, userId, userId, domain, orgId, domain],
  };
  const results = await db.batch([
    orgAccessStatement(db, orgId, userId),
    db
      .prepare(
        `SELECT ${verifiedSql} AS verified,
                (SELECT json_object('domain', domain, 'enrollment', enrollment, 'verified_by', verified_by,
                                    'created_at', created_at)
                 FROM organization_domains WHERE organization_id = ? AND domain = ?) AS existing`,
      )
      .bind(userId, domain, orgId, domain),
    auditStatementIf(
      db,
      {
        organizationId: orgId,
        actorId: userId,
        action: "domain.added",
        target: { type: "domain", id: domain },
        data: { domain, enrollment: input.enrollment },
        at: now,
      },
      go.sql,
      go.params,
    ),
    db
      .prepare(
        `INSERT INTO organization_domains (organization_id, domain, enrollment, verified_by, created_at, updated_at)
         SELECT ?, ?, ?, ?, ?, ? WHERE ${go.sql}`,
      )
      .bind(orgId, domain, input.enrollment, userId, now, now, ...go.params),
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
    db
      .prepare(`SELECT ${DOMAIN_COLUMNS} FROM organization_domains WHERE organization_id = ? ORDER BY domain`)
      .bind(input.orgId),
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
  const go = {
    sql: `${callerMaySql("org:update")} AND EXISTS (SELECT 1 FROM organization_domains
      WHERE organization_id = ? AND domain = ? AND enrollment <> ?)`,
    params: [orgId, userId, orgId, domain, enrollment],
  };
  const results = await db.batch([
    orgAccessStatement(db, orgId, userId),
    db
      .prepare(`SELECT ${DOMAIN_COLUMNS} FROM organization_domains WHERE organization_id = ? AND domain = ?`)
      .bind(orgId, domain),
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, ?, ?, 'domain.updated', 'domain', ?, json_object('domain', ?, 'from', enrollment, 'enrollment', ?), ?
         FROM organization_domains WHERE organization_id = ? AND domain = ? AND ${go.sql}`,
      )
      .bind(newId("auditEvent"), orgId, userId, domain, domain, enrollment, now, orgId, domain, ...go.params),
    db
      .prepare(
        `UPDATE organization_domains SET enrollment = ?, updated_at = ?
         WHERE organization_id = ? AND domain = ? AND ${go.sql}`,
      )
      .bind(enrollment, now, orgId, domain, ...go.params),
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
  const go = {
    sql: `${callerMaySql("org:update")} AND EXISTS (SELECT 1 FROM organization_domains WHERE organization_id = ? AND domain = ?)`,
    params: [orgId, userId, orgId, domain],
  };
  const results = await db.batch([
    orgAccessStatement(db, orgId, userId),
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, ?, ?, 'domain.removed', 'domain', ?, json_object('domain', ?, 'enrollment', enrollment), ?
         FROM organization_domains WHERE organization_id = ? AND domain = ? AND ${go.sql}`,
      )
      .bind(newId("auditEvent"), orgId, userId, domain, domain, now, orgId, domain, ...go.params),
    db
      .prepare(`DELETE FROM organization_domains WHERE organization_id = ? AND domain = ? AND ${go.sql}`)
      .bind(orgId, domain, ...go.params),
  ]);
  assertOrgPermission(orgAccessFromRow(results[0]?.results[0] as OrgAccessRow | undefined), "org:update");
  if (changes(results[2] as D1Result) !== 1) throw new ApiError("NOT_FOUND", "This organization has no such domain.");
}
