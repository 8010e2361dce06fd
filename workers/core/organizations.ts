import { assertOrgPermission, requireOrgMember, requireOrgPermission } from "./access";
import { auditStatement } from "./audit";
import { batch, changes, type Db, isForeignKeyViolation, isUniqueViolation } from "./db";
import { ApiError } from "./errors";
import { holdsOrgRole, orgRolesWith } from "./guards";
import { newId } from "./ids";
import { retryOnRace } from "./memberships";
import { afterNumericCursor, type Page, type PageQuery, toPage } from "./pagination";
import { assertReadWithin, type RateWindow, rateCountStatement, rateGuard, rateIncrementStatement } from "./rate-limit";
import type { OrgRole } from "./roles";
import { deriveSlug, withRandomSuffix } from "./slugs";
import { prepare, type SQL, sql } from "./sql";
import { ensureUserStatement } from "./users";
import { type Organization, type OrganizationRow, toOrganization } from "./views";

/**
 * Deleting an organization, as statements for the caller's batch. Projects go first: the legacy
 * projects table has no cascading foreign key, while project_admins, organization_users and
 * invites cascade from projects and organizations. Audit events stay (history outlives rows).
 * `guard`, when given, is a SQL condition (with its params) that must hold for anything to be
 * deleted, e.g. "the organization has no member left".
 */
export function deleteOrganizationStatements(db: Db, orgId: string, guard: SQL = sql`1`): D1PreparedStatement[] {
  return [
    prepare(db, sql`DELETE FROM projects WHERE organization_id = ${orgId} AND (${guard})`),
    prepare(db, sql`DELETE FROM organizations WHERE id = ${orgId} AND (${guard})`),
  ];
}

/** A derived slug that keeps colliding (a race on the same name) is re-drawn this many times. */
const SLUG_ATTEMPTS = 5;

function isSlugViolation(error: unknown): boolean {
  return isUniqueViolation(error) && /organizations\.slug|organizations_slug/.test((error as Error).message);
}

export interface NewOrganization {
  userId: string;
  name: string;
  /** Explicit slug; derived from the name when absent. */
  slug?: string;
  now: number;
  /** The caller's create window (`createWindow`): a create over it is 429 and writes nothing. */
  rate: RateWindow;
}

/**
 * Creates an organization with the caller as its owner. One round trip: a single batch ensures
 * the caller's user row (their Clerk webhook may not have arrived yet), inserts the organization
 * and the owner membership, writes the audit events and reads back the slug chosen.
 *
 * An explicit slug that is taken is 409 SLUG_TAKEN (the unique index decides, so two concurrent
 * requests for one slug cannot both win). A derived slug falls back, inside the INSERT, to a
 * randomly suffixed variant when the plain one is taken; only a race on that is retried.
 *
 * The rate limit rides in the same batch: the counter is incremented first and every write is
 * guarded by "the window is within its limit", so concurrent creates cannot overshoot it, and a
 * refused create writes nothing but the (capped) counter.
 */
export async function createOrganization(db: Db, input: NewOrganization): Promise<Organization> {
  const { userId, name, now, rate } = input;
  const withinLimit = rateGuard([rate]);
  const base = input.slug ?? deriveSlug(name);
  for (let attempt = 0; attempt < SLUG_ATTEMPTS; attempt++) {
    const id = newId("organization");
    const slug =
      input.slug !== undefined
        ? sql`${input.slug}`
        : sql`CASE WHEN EXISTS (SELECT 1 FROM organizations WHERE slug = ${base}) THEN ${withRandomSuffix(base)} ELSE ${base} END`;
    try {
      const results = await batch(db, [
        rateIncrementStatement(db, rate, 1),
        ensureUserStatement(db, userId, now),
        prepare(
          db,
          sql`INSERT INTO organizations (id, name, slug, created_at, updated_at, max_members)
              SELECT ${id}, ${name}, ${slug}, ${now}, ${now}, NULL WHERE ${withinLimit}`,
        ),
        prepare(
          db,
          sql`INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
              SELECT ${id}, ${userId}, 'owner', ${now}, ${now} WHERE ${withinLimit}`,
        ),
        auditStatement(
          db,
          {
            organizationId: id,
            actorId: userId,
            action: "organization.created",
            target: { type: "organization", id },
            data: { name },
            at: now,
          },
          withinLimit,
        ),
        auditStatement(
          db,
          {
            organizationId: id,
            actorId: userId,
            action: "member.added",
            target: { type: "member", id: userId },
            data: { role: "owner", reason: "created_organization" },
            at: now,
          },
          withinLimit,
        ),
        prepare(db, sql`SELECT id, name, slug, created_at, max_members FROM organizations WHERE id = ${id}`),
        rateCountStatement(db, [rate]),
      ]);
      const row = results.at(-2)?.results[0] as OrganizationRow | undefined;
      if (row === undefined) {
        assertReadWithin([rate], results.at(-1), now);
        throw new Error("createOrganization: the organization was not inserted, yet the rate limit allowed it");
      }
      return toOrganization(row, "owner");
    } catch (error) {
      // The only reference that can dangle here is the owner's: ensureUserStatement creates no
      // row for a user Clerk deleted, whose session token may still be valid for a minute.
      if (isForeignKeyViolation(error)) throw new ApiError("UNAUTHENTICATED", "This account has been deleted.");
      if (!isSlugViolation(error)) throw error;
      if (input.slug !== undefined) throw new ApiError("SLUG_TAKEN", `The slug "${input.slug}" is taken.`);
    }
  }
  throw new ApiError("SLUG_TAKEN", "No free slug could be derived from this name; choose one.");
}

/** The caller's organizations, in the order they joined them. One round trip. */
export async function listOrganizations(db: Db, userId: string, page: PageQuery): Promise<Page<Organization>> {
  const after = afterNumericCursor(page.cursor, "ou.created_at", "ou.organization_id");
  const { results } = await prepare(
    db,
    sql`SELECT o.id, o.name, o.slug, o.created_at, o.max_members, ou.role, ou.created_at AS joined_at
        FROM organization_users ou JOIN organizations o ON o.id = ou.organization_id
        WHERE ou.user_id = ${userId} AND ${after}
        ORDER BY ou.created_at, ou.organization_id LIMIT ${page.limit + 1}`,
  ).all<OrganizationRow & { role: OrgRole; joined_at: number }>();
  return toPage(
    results,
    page.limit,
    (row) => [row.joined_at, row.id],
    (row) => toOrganization(row, row.role),
  );
}

/** One organization as its member sees it (guests included). One round trip. */
export async function getOrganization(db: Db, orgId: string, userId: string): Promise<Organization> {
  const access = await requireOrgMember(db, orgId, userId);
  assertOrgPermission(access, "org:read");
  return toOrganization(access.organization, access.role);
}

export interface OrganizationUpdate {
  orgId: string;
  actorId: string;
  name?: string;
  /** `null` lifts the seat limit; absent leaves it as it is. */
  maxMembers?: number | null;
  now: number;
}

/**
 * PATCH an organization (org:update). Two round trips: the access read, then one batch with the
 * audit event, the guarded update and the row as it now is. Lowering the seat limit below the
 * current member count is allowed: the limit only stops new members from joining.
 */
export async function updateOrganization(db: Db, update: OrganizationUpdate): Promise<Organization> {
  const { orgId, actorId, name, maxMembers, now } = update;
  return await retryOnRace(async () => {
    const access = await requireOrgPermission(db, orgId, actorId, "org:update");
    // The actor still holds the role the permission was checked on when the batch runs.
    const guard = holdsOrgRole(orgId, actorId, orgRolesWith("org:update"));
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    if (name !== undefined) changed.name = { from: access.organization.name, to: name };
    if (maxMembers !== undefined) changed.maxMembers = { from: access.organization.max_members, to: maxMembers };
    const [, result, row] = await batch(db, [
      auditStatement(
        db,
        {
          organizationId: orgId,
          actorId,
          action: "organization.updated",
          target: { type: "organization", id: orgId },
          data: changed,
          at: now,
        },
        guard,
      ),
      prepare(
        db,
        sql`UPDATE organizations
            SET name = COALESCE(${name ?? null}, name),
                max_members = CASE WHEN ${maxMembers !== undefined ? 1 : 0} THEN ${maxMembers ?? null} ELSE max_members END,
                updated_at = ${now}
            WHERE id = ${orgId} AND (${guard})`,
      ),
      db
        .prepare(
          `SELECT o.id, o.name, o.slug, o.created_at, o.max_members, ou.role
           FROM organizations o JOIN organization_users ou ON ou.organization_id = o.id
           WHERE o.id = ? AND ou.user_id = ?`,
        )
        .bind(orgId, actorId),
    ]);
    if (result === undefined || changes(result) === 0) return undefined;
    const updated = row?.results[0] as OrganizationRow & { role: OrgRole };
    return toOrganization(updated, updated.role);
  });
}

/**
 * DELETE an organization (owners only). Two round trips: the access read, then one batch with
 * the audit event and the deletion, both guarded by "the actor is still an owner". Audit events
 * outlive the organization.
 */
export async function deleteOrganization(db: Db, orgId: string, actorId: string, now: number): Promise<void> {
  await retryOnRace(async () => {
    await requireOrgPermission(db, orgId, actorId, "org:delete");
    const guard = holdsOrgRole(orgId, actorId, orgRolesWith("org:delete"));
    const results = await batch(db, [
      auditStatement(
        db,
        {
          organizationId: orgId,
          actorId,
          action: "organization.deleted",
          target: { type: "organization", id: orgId },
          at: now,
        },
        guard,
      ),
      ...deleteOrganizationStatements(db, orgId, guard),
    ]);
    const deleted = results[results.length - 1];
    return deleted !== undefined && changes(deleted) > 0 ? true : undefined;
  });
}
