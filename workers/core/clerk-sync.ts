import { z } from "zod";
import { auditStatement } from "./audit";
import { type Db, isUniqueViolation } from "./db";
import { canonicalEmail } from "./email";
import { ApiError } from "./errors";
import { rankOf } from "./guards";
import { deleteOrganizationStatements } from "./organizations";
import type { OrgRole } from "./roles";
import { prepare, sql } from "./sql";
import { placeholderEmail } from "./users";

/**
 * Clerk's user webhooks, applied to `admins` and `user_emails`. The webhook route verifies the
 * Svix signature; everything here assumes an authentic event.
 *
 * Deliveries are at least once and unordered, so:
 * - each applied delivery's `svix-id` is recorded in `webhook_events` in the same batch as its
 *   effect: a replay (or a concurrent duplicate, which fails the batch on the primary key) has
 *   no effect;
 * - created/updated events apply in order of the user's `updated_at`, enforced inside the batch's
 *   SQL, so two concurrent deliveries cannot interleave wrongly;
 * - a deleted user leaves a tombstone that a late created/updated cannot get past.
 */

export type WebhookOutcome = "applied" | "duplicate" | "ignored";

const clerkId = z.string().min(1).max(128);
const optionalText = z.string().max(1000).nullish();

const emailAddressSchema = z.object({
  id: z.string().min(1).max(128),
  email_address: z.string().min(3).max(320),
  // Clerk sends `verification: null` for addresses that never started one.
  verification: z.object({ status: z.string() }).nullish(),
});

/** The part of Clerk's User object that Roster keeps. Unknown fields are ignored. */
export const clerkUserSchema = z.object({
  id: clerkId,
  email_addresses: z.array(emailAddressSchema).max(100),
  primary_email_address_id: z.string().nullish(),
  first_name: optionalText,
  last_name: optionalText,
  username: optionalText,
  updated_at: z.number().int().nonnegative(),
});
export type ClerkUser = z.infer<typeof clerkUserSchema>;

export const clerkDeletedUserSchema = z.object({ id: clerkId, deleted: z.literal(true) });

/** The envelope; `data` is parsed per type once the type is known to be one Roster handles. */
export const clerkEventSchema = z.object({ type: z.string().min(1).max(200), data: z.unknown() });

interface UserAddress {
  email: string;
  verified: boolean;
  primary: boolean;
}

/** Clerk's addresses in canonical form; two spellings of one address collapse into one row. */
export function userAddresses(user: ClerkUser): UserAddress[] {
  const byEmail = new Map<string, UserAddress>();
  for (const address of user.email_addresses) {
    const email = canonicalEmail(address.email_address);
    const verified = address.verification?.status === "verified";
    const primary = address.id === user.primary_email_address_id;
    const seen = byEmail.get(email);
    byEmail.set(email, {
      email,
      verified: verified || (seen?.verified ?? false),
      primary: primary || (seen?.primary ?? false),
    });
  }
  return [...byEmail.values()];
}

/** "First Last", else the username, else null. */
export function userDisplayName(user: ClerkUser): string | null {
  const full = [user.first_name, user.last_name]
    .map((part) => part?.trim() ?? "")
    .filter((part) => part !== "")
    .join(" ");
  if (full !== "") return full;
  const username = user.username?.trim() ?? "";
  return username === "" ? null : username;
}

function recordDeliveryStatement(db: Db, svixId: string, type: string, now: number): D1PreparedStatement {
  return db
    .prepare("INSERT INTO webhook_events (svix_id, event_type, received_at) VALUES (?, ?, ?)")
    .bind(svixId, type, now);
}

async function alreadyRecorded(db: Db, svixId: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS seen FROM webhook_events WHERE svix_id = ?").bind(svixId).first()) !== null;
}

/**
 * user.created / user.updated: one batch, one round trip (two for a duplicate delivery: the
 * failed batch, then the read that tells a duplicate from another constraint failure).
 */
export async function applyUserUpsert(
  db: Db,
  delivery: { svixId: string; type: string },
  user: ClerkUser,
  now: number,
): Promise<WebhookOutcome> {
  const addresses = userAddresses(user);
  const primary = addresses.find((a) => a.primary)?.email ?? null;
  const placeholder = placeholderEmail(user.id);
  // The guard every user_emails statement carries: this event's upsert is the one stored. It is
  // false when the upsert was skipped (an older event, or a tombstoned user whose row is gone).
  const isCurrent = sql`(SELECT clerk_updated_at FROM admins WHERE id = ${user.id}) = ${user.updated_at}`;
  const statements = [
    recordDeliveryStatement(db, delivery.svixId, delivery.type, now),
    // admins.email is UNIQUE (legacy): when another user already holds the address, this user
    // gets their placeholder there instead of failing; user_emails still has the real address.
    // The upsert's WHERE is what keeps an older event from overwriting a newer one; a
    // tombstoned user is never re-inserted. (The SELECT needs its WHERE for SQLite to parse
    // the ON CONFLICT clause.)
    db
      .prepare(
        `INSERT INTO admins (id, email, name, role, created_at, clerk_updated_at, updated_at)
         SELECT ?1,
                CASE WHEN ?2 IS NULL OR EXISTS (SELECT 1 FROM admins WHERE email = ?2 AND id <> ?1) THEN ?3 ELSE ?2 END,
                ?4, 'member', ?5, ?6, ?5
         WHERE NOT EXISTS (SELECT 1 FROM user_tombstones WHERE user_id = ?1)
         ON CONFLICT (id) DO UPDATE SET
           email = excluded.email, name = excluded.name,
           clerk_updated_at = excluded.clerk_updated_at, updated_at = excluded.updated_at
         WHERE admins.clerk_updated_at IS NULL OR excluded.clerk_updated_at >= admins.clerk_updated_at`,
      )
      .bind(user.id, primary, placeholder, userDisplayName(user), now, user.updated_at),
    prepare(db, sql`DELETE FROM user_emails WHERE user_id = ${user.id} AND ${isCurrent}`),
    ...addresses.map((a) =>
      prepare(
        db,
        sql`INSERT INTO user_emails (user_id, email, verified, is_primary, created_at)
            SELECT ${user.id}, ${a.email}, ${a.verified ? 1 : 0}, ${a.primary ? 1 : 0}, ${now} WHERE ${isCurrent}`,
      ),
    ),
  ];
  try {
    const results = await db.batch(statements);
    return (results[1]?.meta.changes ?? 0) > 0 ? "applied" : "ignored";
  } catch (error) {
    if (isUniqueViolation(error) && (await alreadyRecorded(db, delivery.svixId))) return "duplicate";
    throw error;
  }
}

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
