import type { EmailMessage, InviteEmailMessage } from "../email-consumer/messages";
import {
  type OrgAccessRow,
  orgAccessFromRow,
  orgAccessStatement,
  type ProjectAccessRow,
  projectAccessFromRow,
  projectAccessStatement,
} from "./access";
import { auditStatementIf } from "./audit";
import { changes, type Db, first, iso, isUniqueViolation } from "./db";
import { ApiError } from "./errors";
import { newId } from "./ids";
import {
  effectiveStatus,
  INVITE_COLUMNS,
  INVITE_FROM,
  type Invite,
  type InvitePreview,
  type InviteRow,
  type InviteStatus,
  RECEIVED_INVITE_COLUMNS,
  RECEIVED_INVITE_FROM,
  type ReceivedInvite,
  type ReceivedInviteRow,
  toInvite,
  toInvitePreview,
  toReceivedInvite,
} from "./invite-views";
import { decodeCursor, type Page, type PageQuery, toPage } from "./pagination";
import {
  assertNotOver,
  assertWithinLimit,
  HOUR_MS,
  inviteWindows,
  type RateWindow,
  rateCounts,
  rateGuard,
  rateIncrementStatement,
} from "./rate-limit";
import {
  canGrantOrgRole,
  hasPermission,
  ORG_ROLES,
  type OrgPermission,
  type OrgRole,
  orgRank,
  type ProjectRole,
} from "./roles";
import { generateToken, sha256Hex } from "./tokens";
import { type Organization, type Project, toOrganization, toProject } from "./views";

/**
 * Invitations: one `invites` table for organization and project invites, and their whole
 * lifecycle — create, list, resend, revoke (the inviter's side), preview, accept, decline and the
 * banner feed (the invitee's side).
 *
 * Every change is one D1 batch (one transaction). Transitions are guarded in SQL and their
 * changed-row count decides the outcome; the audit rows of a transition sit in the same batch,
 * BEFORE the UPDATE, guarded by the very condition the UPDATE re-evaluates. A batch is serialized
 * against every other write, so the audit row is written exactly when the transition happens —
 * even when two concurrent requests carry the same millisecond (workerd's clock only moves on
 * I/O), which an "accepted_at = ?" check after the UPDATE could not tell apart.
 *
 * Raw tokens never reach D1: rows hold the SHA-256 hash and `token_version`; the raw token goes
 * only into the EMAIL_QUEUE message, after the batch that stored its hash has committed.
 */

export type InviteScope = { kind: "organization"; orgId: string } | { kind: "project"; projectId: string };

/** The producer side of EMAIL_QUEUE (a test can pass a spy). */
export type InviteQueue = Pick<Queue<EmailMessage>, "sendBatch">;

/** Queues.sendBatch takes at most 100 messages per call. */
const QUEUE_BATCH_MAX = 100;
/** The most addresses one create request may carry (API.md). */
export const MAX_EMAILS_PER_REQUEST = 50;
/** The banner feed is not paginated: it shows the newest invites, at most this many. */
const RECEIVED_INVITES_MAX = 100;

const DAY_MS = 86_400_000;

// SQL pieces derived from roles.ts, so the permission table stays the one source of truth.
const INVITER_ROLES_SQL = ORG_ROLES.filter((r) => hasPermission(r, "members:invite"))
  .map((r) => `'${r}'`)
  .join(", ");
const rankSql = (column: string) =>
  `(CASE ${column} ${ORG_ROLES.map((r) => `WHEN '${r}' THEN ${orgRank(r)}`).join(" ")} ELSE 0 END)`;

/**
 * Whether the inviter of invite `i` may still invite at `i.role`: an organization role with
 * members:invite ranked at least `i.role`, or — for a project invite — project admin of that
 * project with an organization role ranked at least `i.role`.
 */
const INVITER_STILL_ALLOWED_SQL = `EXISTS (
  SELECT 1 FROM organization_users iu
  WHERE iu.organization_id = i.organization_id AND iu.user_id = i.invited_by
    AND ${rankSql("iu.role")} >= ${rankSql("i.role")}
    AND (iu.role IN (${INVITER_ROLES_SQL})
         OR (i.project_id IS NOT NULL AND EXISTS (
               SELECT 1 FROM project_admins ip
               WHERE ip.project_id = i.project_id AND ip.admin_id = i.invited_by AND ip.role = 'admin'))))`;

/** Seat limit for caller `?`: no limit, already a member (takes no seat), or a seat left. */
const SEAT_AVAILABLE_SQL = `(o.max_members IS NULL
  OR EXISTS (SELECT 1 FROM organization_users m WHERE m.organization_id = i.organization_id AND m.user_id = ?)
  OR (SELECT count(*) FROM organization_users m WHERE m.organization_id = i.organization_id) < o.max_members)`;

// ---------------------------------------------------------------------------------------------
// Access (the caller's roles for a scope, read inside the batch that needs them)
// ---------------------------------------------------------------------------------------------

/** SQL for the scope's organization id (a project invite learns it from the project). */
function orgIdSql(scope: InviteScope): { sql: string; param: string } {
  return scope.kind === "organization"
    ? { sql: "?", param: scope.orgId }
    : { sql: "(SELECT organization_id FROM projects WHERE id = ?)", param: scope.projectId };
}

/** access.ts's read for the scope, to batch with the endpoint's own reads. */
function scopeAccessStatement(db: Db, scope: InviteScope, userId: string): D1PreparedStatement {
  return scope.kind === "organization"
    ? orgAccessStatement(db, scope.orgId, userId)
    : projectAccessStatement(db, scope.projectId, userId);
}

interface ScopeAccess {
  orgId: string;
  projectId: string | null;
  orgRole: OrgRole;
  projectRole: ProjectRole | null;
}

/**
 * The scope as the caller may see it (else 404, as access.ts decides): an organization they
 * belong to; a project they belong to or see through projects:read_all. `permission` in the
 * organization, or project admin for a project scope, allows the action (else 403).
 */
function authorizeScope(row: unknown, scope: InviteScope, permission: OrgPermission): ScopeAccess {
  let access: ScopeAccess;
  if (scope.kind === "organization") {
    const org = orgAccessFromRow(row as OrgAccessRow | undefined);
    access = { orgId: org.organization.id, projectId: null, orgRole: org.role, projectRole: null };
  } else {
    const project = projectAccessFromRow(row as ProjectAccessRow | undefined);
    access = {
      orgId: project.organization.id,
      projectId: project.project.id,
      orgRole: project.orgRole,
      projectRole: project.projectRole,
    };
  }
  if (!hasPermission(access.orgRole, permission) && access.projectRole !== "admin") {
    throw new ApiError(
      "FORBIDDEN",
      scope.kind === "organization"
        ? `Your role (${access.orgRole}) does not allow ${permission}.`
        : `Your roles (organization ${access.orgRole}, project ${access.projectRole ?? "none"}) do not allow ${permission}.`,
    );
  }
  return access;
}

function assertCanGrant(callerRole: OrgRole, role: OrgRole): void {
  if (!canGrantOrgRole(callerRole, role)) {
    throw new ApiError(
      "ROLE_ABOVE_OWN",
      `You cannot invite at the organization role ${role}: it is above your own (${callerRole}).`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

export interface CreateInvitesInput {
  scope: InviteScope;
  inviterId: string;
  /** Canonical addresses (emailSchema), in request order; duplicates are collapsed here. */
  emails: string[];
  /** The organization role granted on acceptance when the invitee is not yet a member. */
  role: OrgRole;
  /** Set for project invites. */
  projectRole: ProjectRole | null;
  now: number;
  ttlDays: number;
  /** RATE_LIMIT_INVITES_PER_HOUR. */
  ratePerHour: number;
}

export type CreateOutcome = "invited" | "already_invited" | "already_member";

export interface CreateResult {
  email: string;
  outcome: CreateOutcome;
  invite: Invite | null;
}

interface NewInvite {
  id: string;
  email: string;
  token: string;
  hash: string;
  auditId: string;
}

/**
 * Invites each address to the scope. Two D1 round trips whatever the number of addresses (one
 * read batch, one write batch; the write is skipped when nothing is new), plus one only when
 * enqueueing the emails fails. Address lists travel as one JSON parameter (`json_each`), so no
 * statement comes near D1's 100 bound parameters.
 */
export async function createInvites(db: Db, queue: InviteQueue, input: CreateInvitesInput): Promise<CreateResult[]> {
  const { scope, inviterId, now } = input;
  const emails = [...new Set(input.emails)];
  if (emails.length === 0 || emails.length > MAX_EMAILS_PER_REQUEST) {
    throw new ApiError("VALIDATION_FAILED", `Send 1 to ${MAX_EMAILS_PER_REQUEST} addresses.`);
  }
  const emailsJson = JSON.stringify(emails);
  const org = orgIdSql(scope);
  const scopeWhere =
    scope.kind === "organization" ? "i.organization_id = ? AND i.project_id IS NULL" : "i.project_id = ?";
  const scopeParam = scope.kind === "organization" ? scope.orgId : scope.projectId;
  const hourStart = Math.floor(now / HOUR_MS) * HOUR_MS;

  // Round trip 1: access, existing members, existing pending invites and the rate-limit counts.
  const [accessResult, memberResult, pendingResult, rateResult] = await db.batch([
    scopeAccessStatement(db, scope, inviterId),
    scope.kind === "organization"
      ? db
          .prepare(
            `SELECT DISTINCT ue.email FROM user_emails ue
             JOIN organization_users ou ON ou.user_id = ue.user_id AND ou.organization_id = ?
             WHERE ue.verified = 1 AND ue.email IN (SELECT value FROM json_each(?))`,
          )
          .bind(scope.orgId, emailsJson)
      : db
          .prepare(
            `SELECT DISTINCT ue.email FROM user_emails ue
             JOIN project_admins pa ON pa.admin_id = ue.user_id AND pa.project_id = ?
             WHERE ue.verified = 1 AND ue.email IN (SELECT value FROM json_each(?))`,
          )
          .bind(scope.projectId, emailsJson),
    db
      .prepare(
        `SELECT ${INVITE_COLUMNS} FROM ${INVITE_FROM}
         WHERE ${scopeWhere} AND i.status = 'pending' AND i.email IN (SELECT value FROM json_each(?))`,
      )
      .bind(scopeParam, emailsJson),
    db
      .prepare(
        `SELECT key, count FROM rate_limits
         WHERE window_start = ? AND (key = ? OR key = 'invite:org:' || ${org.sql})`,
      )
      .bind(hourStart, `invite:user:${inviterId}`, org.param),
  ]);

  const access = authorizeScope(accessResult?.results[0], scope, "members:invite");
  assertCanGrant(access.orgRole, input.role);

  const members = new Set(((memberResult?.results ?? []) as { email: string }[]).map((r) => r.email));
  const pending = new Map(((pendingResult?.results ?? []) as InviteRow[]).map((r) => [r.email, r]));
  const results = new Map<string, CreateResult>();
  const stale: InviteRow[] = [];
  const fresh: NewInvite[] = [];
  for (const email of emails) {
    const existing = pending.get(email);
    if (members.has(email)) {
      results.set(email, { email, outcome: "already_member", invite: null });
    } else if (existing !== undefined && existing.expires_at > now) {
      results.set(email, { email, outcome: "already_invited", invite: toInvite(existing, now) });
    } else {
      // A pending invite past its expiry that the cron has not marked yet is expired in the write
      // batch first, so that it frees the one-pending-invite slot for the new one.
      if (existing !== undefined) stale.push(existing);
      const token = generateToken();
      fresh.push({ id: newId("invite"), email, token, hash: sha256Hex(token), auditId: newId("auditEvent") });
    }
  }
  if (fresh.length === 0) return emails.map((email) => results.get(email) as CreateResult);

  const windows = inviteWindows(access.orgId, inviterId, input.ratePerHour, now);
  const counts = rateCounts(rateResult?.results as { key: string; count: number }[]);
  assertWithinLimit(windows, counts, fresh.length, now);

  // Round trip 2, one transaction: count, expire the stale, insert (a concurrent identical request
  // loses on the partial unique index: ON CONFLICT DO NOTHING), audit what was inserted, read back.
  const guard = rateGuard(windows);
  const freshJson = JSON.stringify(fresh.map((f) => ({ id: f.id, email: f.email, hash: f.hash, auditId: f.auditId })));
  const expiresAt = now + input.ttlDays * DAY_MS;
  const writeResults = await db.batch([
    ...windows.map((w) => rateIncrementStatement(db, w, fresh.length)),
    ...expireStaleStatements(db, stale, now),
    db
      .prepare(
        `INSERT INTO invites (id, organization_id, project_id, email, role, project_role, status, token_hash,
                              token_version, invited_by, expires_at, created_at, updated_at)
         SELECT j.value ->> 'id', ?, ?, j.value ->> 'email', ?, ?, 'pending', j.value ->> 'hash',
                1, ?, ?, ?, ?
         FROM json_each(?) j WHERE ${guard.sql}
         ON CONFLICT DO NOTHING`,
      )
      .bind(
        access.orgId,
        access.projectId,
        input.role,
        input.projectRole,
        inviterId,
        expiresAt,
        now,
        now,
        freshJson,
        ...guard.params,
      ),
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT j.value ->> 'auditId', i.organization_id, ?, 'invite.created', 'invite', i.id,
                json_object('email', i.email, 'role', i.role, 'projectId', i.project_id,
                            'projectRole', i.project_role, 'expiresAt', ?), ?
         FROM json_each(?) j JOIN invites i ON i.id = j.value ->> 'id'`,
      )
      .bind(inviterId, iso(expiresAt), now, freshJson),
    db
      .prepare(
        `SELECT ${INVITE_COLUMNS}, i.id IN (SELECT j.value ->> 'id' FROM json_each(?) j) AS created
         FROM ${INVITE_FROM}
         WHERE ${scopeWhere} AND i.status = 'pending'
           AND i.email IN (SELECT j.value ->> 'email' FROM json_each(?) j)`,
      )
      .bind(freshJson, scopeParam, freshJson),
    db
      .prepare("SELECT key, count FROM rate_limits WHERE window_start = ? AND key IN (?, ?)")
      .bind(hourStart, windows[0]?.key, windows[1]?.key),
  ]);
  const rows = (writeResults.at(-2)?.results ?? []) as (InviteRow & { created: number })[];
  const after = new Map(rows.map((r) => [r.email, r]));
  const created: NewInvite[] = [];
  for (const f of fresh) {
    const row = after.get(f.email);
    if (row === undefined) {
      // Not inserted and no pending invite in the way: a concurrent request used up the limit.
      assertNotOver(windows, rateCounts(writeResults.at(-1)?.results as { key: string; count: number }[]), now);
      throw new ApiError("CONFLICT", "The invites changed while they were being created; try again.");
    }
    if (row.created === 1) created.push(f);
    results.set(f.email, {
      email: f.email,
      outcome: row.created === 1 ? "invited" : "already_invited",
      invite: toInvite(row, now),
    });
  }

  const failed = await enqueueInviteEmails(
    db,
    queue,
    created.map((f) => ({ type: "invite", inviteId: f.id, tokenVersion: 1, token: f.token })),
  );
  for (const result of results.values()) {
    if (result.invite !== null && failed.has(result.invite.id)) markDeliveryFailed(result.invite);
  }
  return emails.map((email) => results.get(email) as CreateResult);
}

/** Marks stale pending invites expired, with their audit rows (actor: the system, as the cron). */
function expireStaleStatements(db: Db, stale: { id: string }[], now: number): D1PreparedStatement[] {
  if (stale.length === 0) return [];
  const json = JSON.stringify(stale.map((s) => ({ id: s.id, auditId: newId("auditEvent") })));
  return [
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT j.value ->> 'auditId', i.organization_id, NULL, 'invite.expired', 'invite', i.id,
                json_object('email', i.email, 'expiresAt', strftime('%Y-%m-%dT%H:%M:%fZ', i.expires_at / 1000.0, 'unixepoch')), ?
         FROM json_each(?) j JOIN invites i ON i.id = j.value ->> 'id'
         WHERE i.status = 'pending' AND i.expires_at <= ?`,
      )
      .bind(now, json, now),
    db
      .prepare(
        `UPDATE invites SET status = 'expired', updated_at = ?
         WHERE id IN (SELECT j.value ->> 'id' FROM json_each(?) j) AND status = 'pending' AND expires_at <= ?`,
      )
      .bind(now, json, now),
  ];
}

// ---------------------------------------------------------------------------------------------
// Email queue
// ---------------------------------------------------------------------------------------------

/**
 * Queues the invite emails (after the batch that stored the hashes has committed), at most 100
 * per sendBatch call. When a call throws, those invites' delivery becomes `failed` ("enqueue
 * failed") so that an admin sees it and resends; the request itself still succeeds. Returns the
 * ids that failed. The log line names invite ids only, never a token.
 */
export async function enqueueInviteEmails(
  db: Db,
  queue: InviteQueue,
  messages: InviteEmailMessage[],
): Promise<Set<string>> {
  const failed: InviteEmailMessage[] = [];
  for (let start = 0; start < messages.length; start += QUEUE_BATCH_MAX) {
    const chunk = messages.slice(start, start + QUEUE_BATCH_MAX);
    try {
      await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" as const })));
    } catch (error) {
      failed.push(...chunk);
      console.error(
        JSON.stringify({
          event: "invite.enqueue_failed",
          inviteIds: chunk.map((m) => m.inviteId),
          error: error instanceof Error ? error.name : "unknown",
        }),
      );
    }
  }
  if (failed.length > 0) {
    // Only the token version that failed: a later resend's delivery state is not overwritten.
    await db
      .prepare(
        `UPDATE invites SET delivery_status = 'failed', delivery_error = 'enqueue failed'
         WHERE EXISTS (SELECT 1 FROM json_each(?) j
                       WHERE j.value ->> 'id' = invites.id AND j.value ->> 'v' = invites.token_version)`,
      )
      .bind(JSON.stringify(failed.map((m) => ({ id: m.inviteId, v: m.tokenVersion }))))
      .run();
  }
  return new Set(failed.map((m) => m.inviteId));
}

function markDeliveryFailed(invite: Invite): void {
  invite.delivery = { status: "failed", attempts: invite.delivery.attempts, lastError: "enqueue failed", sentAt: null };
}

// ---------------------------------------------------------------------------------------------
// List
// ---------------------------------------------------------------------------------------------

export type InviteStatusFilter = InviteStatus;

/**
 * The scope's invites, newest first, keyset-paginated on (created_at, id). One round trip: the
 * access check and the page are read together (the page is dropped unless access holds).
 * `pending` means pending and unexpired; `expired` includes pending invites past their expiry.
 */
export async function listInvites(
  db: Db,
  input: { scope: InviteScope; userId: string; status: InviteStatusFilter; page: PageQuery; now: number },
): Promise<Page<Invite>> {
  const { scope, now, page } = input;
  const cursor = decodeCursor(page.cursor);
  const where: string[] = [scope.kind === "organization" ? "i.organization_id = ?" : "i.project_id = ?"];
  const params: unknown[] = [scope.kind === "organization" ? scope.orgId : scope.projectId];
  if (input.status === "pending") {
    where.push("i.status = 'pending' AND i.expires_at > ?");
    params.push(now);
  } else if (input.status === "expired") {
    where.push("i.status IN ('expired', 'pending') AND (i.status = 'expired' OR i.expires_at <= ?)");
    params.push(now);
  } else {
    where.push("i.status = ?");
    params.push(input.status);
  }
  if (cursor !== null) {
    where.push("(i.created_at < ? OR (i.created_at = ? AND i.id < ?))");
    params.push(cursor[0], cursor[0], cursor[1]);
  }
  const [accessResult, listResult] = await db.batch([
    scopeAccessStatement(db, scope, input.userId),
    db
      .prepare(
        `SELECT ${INVITE_COLUMNS} FROM ${INVITE_FROM}
         WHERE ${where.join(" AND ")} ORDER BY i.created_at DESC, i.id DESC LIMIT ?`,
      )
      .bind(...params, page.limit + 1),
  ]);
  authorizeScope(accessResult?.results[0], scope, "invites:read");
  return toPage(
    (listResult?.results ?? []) as InviteRow[],
    page.limit,
    (r) => [r.created_at, r.id],
    (r) => toInvite(r, now),
  );
}

// ---------------------------------------------------------------------------------------------
// Resend and revoke (the inviter's side, by id)
// ---------------------------------------------------------------------------------------------

type ManagedInviteRow = InviteRow & { caller_org_role: OrgRole | null; caller_project_role: ProjectRole | null };

function managedInviteStatement(db: Db, inviteId: string, userId: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT ${INVITE_COLUMNS}, ou.role AS caller_org_role, pa.role AS caller_project_role
       FROM ${INVITE_FROM}
       LEFT JOIN organization_users ou ON ou.organization_id = i.organization_id AND ou.user_id = ?
       LEFT JOIN project_admins pa ON pa.project_id = i.project_id AND pa.admin_id = ?
       WHERE i.id = ?`,
    )
    .bind(userId, userId, inviteId);
}

/**
 * An invite as its managers see it: organization members with `permission`, or admins of the
 * invite's project. Anyone else — other organizations included — gets 404 (no existence oracle).
 */
function authorizeManaged(
  row: ManagedInviteRow | undefined,
  permission: OrgPermission,
): ManagedInviteRow & { caller_org_role: OrgRole } {
  if (
    row === undefined ||
    row.caller_org_role === null ||
    (!hasPermission(row.caller_org_role, permission) && row.caller_project_role !== "admin")
  ) {
    throw new ApiError("INVITE_NOT_FOUND", "No such invite.");
  }
  return row as ManagedInviteRow & { caller_org_role: OrgRole };
}

/** The error for a transition out of a finished invite (resend and revoke). */
function finishedInviteError(status: InviteStatus): ApiError {
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

/**
 * Resend: a new token (the old link dies with its hash), token_version + 1, a new expiry, delivery
 * reset to queued, and the email queued again. Allowed for pending and expired invites (expired
 * becomes pending again); accepted → 409 INVITE_ALREADY_ACCEPTED, declined / revoked → 410.
 * Counts against the invite rate limit (it sends an email). A resend re-grants the invite's role,
 * so the caller must be allowed to grant it (ROLE_ABOVE_OWN otherwise), and becomes the invite's
 * inviter: the email names them and acceptance re-checks their role (so an admin can revive an
 * invite whose original inviter has since been demoted). Two round trips.
 */
export async function resendInvite(
  db: Db,
  queue: InviteQueue,
  input: { inviteId: string; userId: string; now: number; ttlDays: number; ratePerHour: number },
): Promise<Invite> {
  const { inviteId, userId, now } = input;
  const hourStart = Math.floor(now / HOUR_MS) * HOUR_MS;
  const [inviteResult, otherResult, rateResult] = await db.batch([
    managedInviteStatement(db, inviteId, userId),
    // Another pending invite for the same address and scope (possible once this one expired).
    db
      .prepare(
        `SELECT o.id, o.expires_at FROM invites o JOIN invites i ON i.id = ?
         WHERE o.id <> i.id AND o.status = 'pending' AND o.email = i.email
           AND o.organization_id = i.organization_id AND COALESCE(o.project_id, '') = COALESCE(i.project_id, '')`,
      )
      .bind(inviteId),
    db
      .prepare(
        `SELECT key, count FROM rate_limits WHERE window_start = ?
           AND (key = ? OR key = 'invite:org:' || (SELECT organization_id FROM invites WHERE id = ?))`,
      )
      .bind(hourStart, `invite:user:${userId}`, inviteId),
  ]);
  const row = authorizeManaged(inviteResult?.results[0] as ManagedInviteRow | undefined, "invites:resend");
  assertCanGrant(row.caller_org_role, row.role);
  if (row.status !== "pending" && row.status !== "expired") throw finishedInviteError(row.status);
  const others = (otherResult?.results ?? []) as { id: string; expires_at: number }[];
  if (others.some((o) => o.expires_at > now)) throw alreadyPending();
  const windows = inviteWindows(row.organization_id, userId, input.ratePerHour, now);
  assertWithinLimit(windows, rateCounts(rateResult?.results as { key: string; count: number }[]), 1, now);

  const token = generateToken();
  const hash = sha256Hex(token);
  const expiresAt = now + input.ttlDays * DAY_MS;
  const guard = rateGuard(windows);
  const transition = {
    sql: `EXISTS (SELECT 1 FROM invites WHERE id = ? AND status IN ('pending', 'expired') AND token_version = ?)
          AND ${guard.sql}`,
    params: [inviteId, row.token_version, ...guard.params],
  };
  let results: D1Result[];
  try {
    results = await db.batch([
      ...windows.map((w) => rateIncrementStatement(db, w, 1)),
      ...expireStaleStatements(db, others, now),
      auditStatementIf(
        db,
        {
          organizationId: row.organization_id,
          actorId: userId,
          action: "invite.resent",
          target: { type: "invite", id: inviteId },
          data: {
            email: row.email,
            fromStatus: effectiveStatus(row, now),
            tokenVersion: row.token_version + 1,
            previousInviter: row.invited_by,
            expiresAt: iso(expiresAt),
          },
          at: now,
        },
        transition.sql,
        transition.params,
      ),
      db
        .prepare(
          `UPDATE invites SET status = 'pending', token_hash = ?, token_version = token_version + 1, expires_at = ?,
                  invited_by = ?, updated_at = ?, delivery_status = 'queued', delivery_attempts = 0,
                  delivery_error = NULL, delivery_sent_at = NULL
           WHERE id = ? AND ${transition.sql}`,
        )
        .bind(hash, expiresAt, userId, now, inviteId, ...transition.params),
      db.prepare(`SELECT ${INVITE_COLUMNS} FROM ${INVITE_FROM} WHERE i.id = ?`).bind(inviteId),
      db
        .prepare("SELECT key, count FROM rate_limits WHERE window_start = ? AND key IN (?, ?)")
        .bind(hourStart, windows[0]?.key, windows[1]?.key),
    ]);
  } catch (error) {
    // The one-pending-invite index: another invite for this address became pending meanwhile.
    if (isUniqueViolation(error)) throw alreadyPending();
    throw error;
  }
  const updated = results.at(-2)?.results[0] as InviteRow | undefined;
  if (updated === undefined) throw new ApiError("INVITE_NOT_FOUND", "No such invite.");
  if (changes(results.at(-3) as D1Result) === 0) {
    assertNotOver(windows, rateCounts(results.at(-1)?.results as { key: string; count: number }[]), now);
    if (updated.status !== "pending") throw finishedInviteError(updated.status);
    // A concurrent resend won: its fresh token is on its way; report the invite as it is now.
    return toInvite(updated, now);
  }
  const invite = toInvite(updated, now);
  const failed = await enqueueInviteEmails(db, queue, [
    { type: "invite", inviteId, tokenVersion: updated.token_version, token },
  ]);
  if (failed.has(inviteId)) markDeliveryFailed(invite);
  return invite;
}

function alreadyPending(): ApiError {
  return new ApiError(
    "INVITE_ALREADY_PENDING",
    "Another pending invite exists for this address in this organization or project; resend that one instead.",
  );
}

/**
 * Revoke: a pending (or expired) invite becomes revoked; its link stops working. Idempotent: an
 * already revoked invite answers the same, and the `invite.revoked` audit event is written once.
 * Accepted → 409 INVITE_ALREADY_ACCEPTED (remove the member instead); declined → 410.
 * Two round trips (one when already revoked).
 */
export async function revokeInvite(db: Db, input: { inviteId: string; userId: string; now: number }): Promise<void> {
  const { inviteId, userId, now } = input;
  const row = authorizeManaged(
    (await first<ManagedInviteRow>(managedInviteStatement(db, inviteId, userId))) ?? undefined,
    "invites:revoke",
  );
  if (row.status === "revoked") return;
  if (row.status === "accepted" || row.status === "declined") throw finishedInviteError(row.status);
  const guard = "EXISTS (SELECT 1 FROM invites WHERE id = ? AND status IN ('pending', 'expired'))";
  const results = await db.batch([
    auditStatementIf(
      db,
      {
        organizationId: row.organization_id,
        actorId: userId,
        action: "invite.revoked",
        target: { type: "invite", id: inviteId },
        data: { email: row.email, fromStatus: effectiveStatus(row, now) },
        at: now,
      },
      guard,
      [inviteId],
    ),
    db
      .prepare(
        `UPDATE invites SET status = 'revoked', updated_at = ? WHERE id = ? AND status IN ('pending', 'expired')`,
      )
      .bind(now, inviteId),
    db.prepare("SELECT status FROM invites WHERE id = ?").bind(inviteId),
  ]);
  if (changes(results[1] as D1Result) === 1) return;
  const status = (results[2]?.results[0] as { status: InviteStatus } | undefined)?.status;
  if (status === undefined) throw new ApiError("INVITE_NOT_FOUND", "No such invite.");
  if (status !== "revoked") throw finishedInviteError(status);
}

// ---------------------------------------------------------------------------------------------
// The invitee's side
// ---------------------------------------------------------------------------------------------

/** How the invitee names an invite: the token from the email link, or its id (the banner). */
export type InviteKey = { token: string } | { id: string };

function keyCondition(key: InviteKey): { sql: string; param: string } {
  return "token" in key ? { sql: "i.token_hash = ?", param: sha256Hex(key.token) } : { sql: "i.id = ?", param: key.id };
}

/**
 * Preview for whoever holds the token (no sign-in): names, role, a masked address hint, expiry and
 * status, whatever the status. One round trip, the per-IP limiter included.
 */
export async function previewInvite(
  db: Db,
  input: { token: string; now: number; rate?: RateWindow },
): Promise<InvitePreview> {
  const { now, rate } = input;
  const hash = sha256Hex(input.token);
  const results = await db.batch([
    ...(rate ? [rateIncrementStatement(db, rate, 1)] : []),
    db.prepare(`SELECT ${RECEIVED_INVITE_COLUMNS} FROM ${RECEIVED_INVITE_FROM} WHERE i.token_hash = ?`).bind(hash),
    ...(rate
      ? [
          db
            .prepare("SELECT key, count FROM rate_limits WHERE key = ? AND window_start = ?")
            .bind(rate.key, rate.windowStart),
        ]
      : []),
  ]);
  if (rate) assertNotOver([rate], rateCounts(results.at(-1)?.results as { key: string; count: number }[]), now);
  const row = results[rate ? 1 : 0]?.results[0] as ReceivedInviteRow | undefined;
  if (row === undefined) throw new ApiError("INVITE_NOT_FOUND", "This invite link is not valid.");
  return toInvitePreview(row, now);
}

/** The caller's view of an invite at the start of their accept/decline batch: why it may fail. */
interface InviteDiagnosis {
  id: string;
  status: InviteStatus;
  expires_at: number;
  verified_match: number;
  any_match: number;
  inviter_ok: number;
  seat_ok: number;
}

function diagnosisStatement(db: Db, key: { sql: string; param: string }, userId: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT i.id, i.status, i.expires_at,
              EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ? AND ue.email = i.email AND ue.verified = 1)
                AS verified_match,
              EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ? AND ue.email = i.email) AS any_match,
              ${INVITER_STILL_ALLOWED_SQL} AS inviter_ok,
              ${SEAT_AVAILABLE_SQL} AS seat_ok
       FROM invites i JOIN organizations o ON o.id = i.organization_id
       WHERE ${key.sql}`,
    )
    .bind(userId, userId, userId, key.param);
}

/** Common refusals, in order: unknown/invisible, finished, expired, address. */
function refusal(d: InviteDiagnosis | undefined, byId: boolean, now: number): ApiError | null {
  // By id, an invite addressed to none of the caller's addresses does not exist for them.
  if (d === undefined || (byId && d.any_match === 0)) return new ApiError("INVITE_NOT_FOUND", "No such invite.");
  const status = effectiveStatus(d, now);
  if (status === "accepted") return new ApiError("INVITE_ALREADY_ACCEPTED", "This invite has already been accepted.");
  if (status === "revoked") return new ApiError("INVITE_REVOKED", "This invite was revoked.");
  if (status === "declined") return new ApiError("INVITE_DECLINED", "This invite was declined.");
  if (status === "expired") return new ApiError("INVITE_EXPIRED", `This invite expired on ${iso(d.expires_at)}.`);
  if (d.verified_match === 0) {
    return d.any_match === 1
      ? new ApiError("EMAIL_NOT_VERIFIED", "Verify the address this invite was sent to, then accept again.")
      : new ApiError("INVITE_EMAIL_MISMATCH", "This invite was sent to another email address than yours.");
  }
  return null;
}

export interface AcceptResult {
  organization: Organization;
  project: Project | null;
}

/**
 * Accepting, in ONE D1 batch (one transaction, one round trip — the failure path included). The
 * acceptance condition is re-checked inside the batch, at accept time:
 *   the invite is pending and unexpired (`expires_at > now`), a verified address of the caller
 *   equals the invite's, the inviter still holds a role that may invite at the invite's role,
 *   and a seat is left (or the caller is already a member) — plus the per-IP limit by token.
 * Statements, each guarded by that same condition: a diagnosis read (why it would fail), the audit
 * rows, the organization membership (ON CONFLICT DO NOTHING: an existing org role is kept), the
 * project membership (likewise: an existing project member keeps their project role), the guarded
 * UPDATE to accepted, and the views to answer with. The UPDATE's changed-row count decides: 0
 * means nothing changed and the diagnosis names the contract error. Of any number of concurrent
 * accepts exactly one UPDATE matches.
 */
export async function acceptInvite(
  db: Db,
  input: { key: InviteKey; userId: string; now: number; rate?: RateWindow },
): Promise<AcceptResult> {
  const { userId, now, rate } = input;
  const key = keyCondition(input.key);
  const guard = rate ? rateGuard([rate]) : { sql: "1", params: [] };
  const cond = {
    sql: `${key.sql} AND i.status = 'pending' AND i.expires_at > ?
      AND EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ? AND ue.verified = 1 AND ue.email = i.email)
      AND ${INVITER_STILL_ALLOWED_SQL}
      AND ${SEAT_AVAILABLE_SQL}
      AND ${guard.sql}`,
    params: [key.param, now, userId, userId, ...guard.params],
  };
  const from = "FROM invites i JOIN organizations o ON o.id = i.organization_id";
  // An audit row written under `cond` (and `extra`): the target id is an SQL expression.
  const audit = (
    action: string,
    target: { type: string; idSql: string; params: unknown[] },
    data: string,
    extra = "",
    extraParams: unknown[] = [],
  ) =>
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, i.organization_id, ?, '${action}', '${target.type}', ${target.idSql}, ${data}, ? ${from}
         WHERE ${cond.sql} ${extra}`,
      )
      .bind(newId("auditEvent"), userId, ...target.params, now, ...cond.params, ...extraParams);
  const invite = { type: "invite", idSql: "i.id", params: [] };
  const member = { type: "member", idSql: "?", params: [userId] };
  const projectMember = { type: "project_member", idSql: "?", params: [userId] };
  const statements = [
    ...(rate ? [rateIncrementStatement(db, rate, 1)] : []),
    diagnosisStatement(db, key, userId),
    audit(
      "invite.accepted",
      invite,
      `json_object('email', i.email, 'role', i.role, 'projectId', i.project_id, 'projectRole', i.project_role)`,
    ),
    audit(
      "member.added",
      member,
      `json_object('role', i.role, 'inviteId', i.id)`,
      "AND NOT EXISTS (SELECT 1 FROM organization_users m WHERE m.organization_id = i.organization_id AND m.user_id = ?)",
      [userId],
    ),
    audit(
      "project_member.added",
      projectMember,
      `json_object('projectId', i.project_id, 'role', i.project_role, 'inviteId', i.id)`,
      `AND i.project_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM project_admins pa WHERE pa.project_id = i.project_id AND pa.admin_id = ?)`,
      [userId],
    ),
    db
      .prepare(
        `INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
         SELECT i.organization_id, ?, i.role, ?, ? ${from} WHERE ${cond.sql}
         ON CONFLICT DO NOTHING`,
      )
      .bind(userId, now, now, ...cond.params),
    db
      .prepare(
        `INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at)
         SELECT i.project_id, ?, i.project_role, ?, ? ${from} WHERE ${cond.sql} AND i.project_id IS NOT NULL
         ON CONFLICT DO NOTHING`,
      )
      .bind(userId, now, now, ...cond.params),
    db
      .prepare(
        `UPDATE invites SET status = 'accepted', accepted_by = ?, accepted_at = ?, updated_at = ?
         WHERE id IN (SELECT i.id ${from} WHERE ${cond.sql})`,
      )
      .bind(userId, now, now, ...cond.params),
    db
      .prepare(
        `SELECT o.id, o.name, o.slug, o.created_at, o.max_members, ou.role AS org_role,
                p.id AS project_id, p.name AS project_name, p.created_at AS project_created_at,
                pa.role AS project_role
         FROM invites i JOIN organizations o ON o.id = i.organization_id
         JOIN organization_users ou ON ou.organization_id = o.id AND ou.user_id = ?
         LEFT JOIN projects p ON p.id = i.project_id
         LEFT JOIN project_admins pa ON pa.project_id = p.id AND pa.admin_id = ?
         WHERE ${key.sql}`,
      )
      .bind(userId, userId, key.param),
    ...(rate
      ? [
          db
            .prepare("SELECT key, count FROM rate_limits WHERE key = ? AND window_start = ?")
            .bind(rate.key, rate.windowStart),
        ]
      : []),
  ];
  const results = await db.batch(statements);
  const offset = rate ? 1 : 0;
  const updateResult = results[offset + 6] as D1Result;
  if (changes(updateResult) === 0) {
    if (rate) assertNotOver([rate], rateCounts(results.at(-1)?.results as { key: string; count: number }[]), now);
    const d = results[offset]?.results[0] as InviteDiagnosis | undefined;
    throw (
      refusal(d, "id" in input.key, now) ??
      (d?.inviter_ok === 0
        ? new ApiError(
            "FORBIDDEN",
            "The person who invited you no longer has a role that may invite at this role; ask for a new invite.",
          )
        : d?.seat_ok === 0
          ? new ApiError("SEAT_LIMIT_REACHED", "This organization has no seat left; ask an admin to make room.")
          : new ApiError("CONFLICT", "The invite changed meanwhile; try again."))
    );
  }
  const view = results[offset + 7]?.results[0] as
    | {
        id: string;
        name: string;
        slug: string;
        created_at: number;
        max_members: number | null;
        org_role: OrgRole;
        project_id: string | null;
        project_name: string | null;
        project_created_at: number | null;
        project_role: ProjectRole | null;
      }
    | undefined;
  if (view === undefined) throw new ApiError("INTERNAL", "The accepted invite could not be read back.");
  return {
    organization: toOrganization(view, view.org_role),
    project:
      view.project_id === null
        ? null
        : toProject(
            {
              id: view.project_id,
              organization_id: view.id,
              name: view.project_name ?? "",
              created_at: view.project_created_at ?? 0,
            },
            view.project_role,
          ),
  };
}

/**
 * Declining (the banner path, by id): the invite becomes declined. Requires a verified address
 * equal to the invite's (declining is final, so an unverified claim to an address is not enough).
 * Idempotent: declining a declined invite again is a no-op. One round trip.
 */
export async function declineInvite(db: Db, input: { inviteId: string; userId: string; now: number }): Promise<void> {
  const { inviteId, userId, now } = input;
  const key = { sql: "i.id = ?", param: inviteId };
  const cond = `i.id = ? AND i.status = 'pending' AND i.expires_at > ?
    AND EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ? AND ue.verified = 1 AND ue.email = i.email)`;
  const params = [inviteId, now, userId];
  const results = await db.batch([
    diagnosisStatement(db, key, userId),
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, i.organization_id, ?, 'invite.declined', 'invite', i.id,
                json_object('email', i.email, 'projectId', i.project_id), ?
         FROM invites i WHERE ${cond}`,
      )
      .bind(newId("auditEvent"), userId, now, ...params),
    db
      .prepare(
        `UPDATE invites SET status = 'declined', updated_at = ? WHERE id IN (SELECT i.id FROM invites i WHERE ${cond})`,
      )
      .bind(now, ...params),
  ]);
  if (changes(results[2] as D1Result) === 1) return;
  const d = results[0]?.results[0] as InviteDiagnosis | undefined;
  if (d !== undefined && d.any_match === 1 && d.status === "declined") return;
  throw refusal(d, true, now) ?? new ApiError("CONFLICT", "The invite changed meanwhile; try again.");
}

/**
 * The banner feed: pending, unexpired invites addressed to any VERIFIED address of the caller,
 * newest first (at most 100). One round trip.
 */
export async function receivedInvites(db: Db, input: { userId: string; now: number }): Promise<ReceivedInvite[]> {
  const { results } = await db
    .prepare(
      `SELECT ${RECEIVED_INVITE_COLUMNS} FROM ${RECEIVED_INVITE_FROM}
       WHERE i.status = 'pending' AND i.expires_at > ?
         AND i.email IN (SELECT email FROM user_emails WHERE user_id = ? AND verified = 1)
       ORDER BY i.created_at DESC, i.id DESC LIMIT ?`,
    )
    .bind(input.now, input.userId, RECEIVED_INVITES_MAX)
    .all<ReceivedInviteRow>();
  return results.map(toReceivedInvite);
}
