import { auditStatement } from "./audit";
import { alreadyRecorded, recordDeliveryStatement, type WebhookOutcome } from "./clerk-sync";
import { type Db, isUniqueViolation } from "./db";
import { ApiError } from "./errors";
import { rankOf } from "./guards";
import { deleteOrganizationStatements } from "./organizations";
import type { OrgRole } from "./roles";
import { prepare, sql } from "./sql";

/**
 * Clerk's user.deleted (clerk-sync.ts has the delivery rules): the user's memberships go, an
 * organization they alone owned passes to its highest-ranked member (audited), an organization
 * they were the only member of goes with them, and a tombstone keeps late events out.
 */

/** The member who inherits an organization: highest-ranked, then longest-standing. */
const successor = (column: "user_id" | "role") =>
  sql`(SELECT x.${sql.raw(column)} FROM organization_users x
    WHERE x.organization_id = ou.organization_id AND x.user_id <> ou.user_id
    ORDER BY ${rankOf(sql`x.role`)} DESC, x.created_at, x.user_id LIMIT 1)`;

/** The deleted user's memberships, each with what deleting the user means for it. */
const planSql = (userId: string) => sql`
  SELECT ou.organization_id, ou.role,
         (ou.role = 'owner' AND NOT EXISTS (
            SELECT 1 FROM organization_users o2
            WHERE o2.organization_id = ou.organization_id AND o2.role = 'owner' AND o2.user_id <> ou.user_id)) AS sole_owner,
         ${successor("user_id")} AS successor_id,
         ${successor("role")} AS successor_role
  FROM organization_users ou WHERE ou.user_id = ${userId}`;

/**
 * The plan as one string, computed in SQL both when it is read and inside the batch that applies
 * it: if they differ, the memberships changed in between and the batch must not apply a stale
 * plan (it could leave an organization without an owner).
 */
const planFingerprintSql = (userId: string) => sql`
  SELECT group_concat(
           organization_id || ':' || role || ':' || sole_owner || ':' ||
           CASE WHEN sole_owner THEN COALESCE(successor_id, '') || ':' || COALESCE(successor_role, '') ELSE '' END,
           '|' ORDER BY organization_id) AS fingerprint
  FROM (${planSql(userId)})`;

interface PlanRow {
  organization_id: string;
  role: OrgRole;
  sole_owner: number;
  successor_id: string | null;
  successor_role: OrgRole | null;
}

const MAX_DELETE_ATTEMPTS = 3;

/**
 * user.deleted: one read (the delivery's id, the user's memberships and who inherits each
 * organization they alone own), then one batch. Retried when the memberships changed between the
 * two; a third conflict answers 409 and Clerk redelivers later.
 */
export async function applyUserDeleted(
  db: Db,
  delivery: { svixId: string; type: string },
  userId: string,
  now: number,
): Promise<WebhookOutcome> {
  for (let attempt = 1; attempt <= MAX_DELETE_ATTEMPTS; attempt++) {
    const [seen, planResult, fingerprintResult] = await db.batch([
      db.prepare("SELECT 1 AS seen FROM webhook_events WHERE svix_id = ?").bind(delivery.svixId),
      prepare(db, planSql(userId)),
      prepare(db, planFingerprintSql(userId)),
    ]);
    if ((seen?.results.length ?? 0) > 0) return "duplicate";
    const plan = (planResult?.results ?? []) as PlanRow[];
    const fingerprint =
      (fingerprintResult?.results[0] as { fingerprint: string | null } | undefined)?.fingerprint ?? null;
    try {
      await db.batch(userDeletedStatements(db, delivery, userId, plan, fingerprint, now));
      return "applied";
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      if (await alreadyRecorded(db, delivery.svixId)) return "duplicate";
      // Otherwise the plan check failed: the memberships changed under us; read again.
    }
  }
  throw new ApiError("CONFLICT", "The user's memberships kept changing; retry the delivery.");
}

function userDeletedStatements(
  db: Db,
  delivery: { svixId: string; type: string },
  userId: string,
  plan: PlanRow[],
  fingerprint: string | null,
  now: number,
): D1PreparedStatement[] {
  const statements = [
    recordDeliveryStatement(db, delivery.svixId, delivery.type, now),
    // The plan check. SQLite has no RAISE outside triggers, so a stale plan fails the batch the
    // same way a duplicate does: by inserting this delivery's id a second time.
    prepare(
      db,
      sql`INSERT INTO webhook_events (svix_id, event_type, received_at)
          SELECT ${delivery.svixId}, ${delivery.type}, ${now} WHERE (${planFingerprintSql(userId)}) IS NOT ${fingerprint}`,
    ),
  ];
  for (const row of plan) {
    const orgId = row.organization_id;
    if (row.sole_owner === 1 && row.successor_id !== null) {
      // Guarded like every transition, although the plan check already holds it: only while
      // nobody else owns the organization.
      const guard = sql`EXISTS (SELECT 1 FROM organization_users
                                WHERE organization_id = ${orgId} AND user_id = ${row.successor_id} AND role <> 'owner')
        AND NOT EXISTS (SELECT 1 FROM organization_users WHERE organization_id = ${orgId} AND role = 'owner' AND user_id <> ${userId})`;
      statements.push(
        auditStatement(
          db,
          {
            organizationId: orgId,
            actorId: null,
            action: "member.promoted",
            target: { type: "member", id: row.successor_id },
            data: { from: row.successor_role, to: "owner", reason: "owner_deleted", previousOwner: userId },
            at: now,
          },
          guard,
        ),
        prepare(
          db,
          sql`UPDATE organization_users SET role = 'owner', updated_at = ${now}
              WHERE organization_id = ${orgId} AND user_id = ${row.successor_id} AND ${guard}`,
        ),
      );
    }
    statements.push(
      auditStatement(db, {
        organizationId: orgId,
        actorId: null,
        action: "member.removed",
        target: { type: "member", id: userId },
        data: { role: row.role, reason: "user_deleted" },
        at: now,
      }),
    );
  }
  statements.push(
    db.prepare("DELETE FROM project_admins WHERE admin_id = ?").bind(userId),
    db.prepare("DELETE FROM organization_users WHERE user_id = ?").bind(userId),
  );
  for (const row of plan) {
    if (row.sole_owner !== 1 || row.successor_id !== null) continue;
    // The user was the organization's only member: it goes with them, if still empty.
    const empty = sql`NOT EXISTS (SELECT 1 FROM organization_users WHERE organization_id = ${row.organization_id})`;
    statements.push(
      auditStatement(
        db,
        {
          organizationId: row.organization_id,
          actorId: null,
          action: "organization.deleted",
          target: { type: "organization", id: row.organization_id },
          data: { reason: "last_member_deleted", userId },
          at: now,
        },
        sql`EXISTS (SELECT 1 FROM organizations WHERE id = ${row.organization_id}) AND ${empty}`,
      ),
      ...deleteOrganizationStatements(db, row.organization_id, empty),
    );
  }
  statements.push(
    // user_emails cascades from admins.
    db.prepare("DELETE FROM admins WHERE id = ?").bind(userId),
    db
      .prepare("INSERT INTO user_tombstones (user_id, deleted_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING")
      .bind(userId, now),
  );
  return statements;
}
