import type { EmailMessage, InviteEmailMessage } from "../email-consumer/messages";
import {
  type OrgAccessRow,
  orgAccessFromRow,
  orgAccessStatement,
  type ProjectAccessRow,
  projectAccessFromRow,
  projectAccessStatement,
} from "./access";
import { changes, type Db, iso, isUniqueViolation } from "./db";
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
  PROJECT_ROLES,
  type ProjectRole,
} from "./roles";
import { generateToken, sha256Hex } from "./tokens";
import { type Organization, type Project, toOrganization, toProject } from "./views";

/**
 * Invitations: one `invites` table for organization and project invites, and their whole
 * lifecycle — create, list, resend, revoke (the inviter's side), preview, accept, decline and the
 * banner feed (the invitee's side).
 *
 * Every change is one D1 batch (one transaction). Transitions are guarded in SQL
 * and their changed-row count decides the outcome; the audit rows of a transition sit in the same
 * batch, either BEFORE the UPDATE guarded by the very condition it evaluates (revoke, decline), or
 * AFTER it keyed on something only this request wrote — its fresh invite ids (create), its new
 * token hash (resend), its accept_nonce (accept). A batch is serialized against every other
 * write, so the audit row is written exactly when the transition happens — even when two
 * concurrent requests carry the same millisecond (workerd's clock only moves on I/O), which an
 * "accepted_at = ?" check after the UPDATE could not tell apart.
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

function assertCanGrant(callerRole: OrgRole, role: OrgRole, doing = "invite at"): void {
  if (!canGrantOrgRole(callerRole, role)) {
    throw new ApiError(
      "ROLE_ABOVE_OWN",
      `You cannot ${doing} the organization role ${role}: it is above your own (${callerRole}).`,
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
 * The caller roles (`ou.role`, and `pa.role` for a project) for which `authorizeScope` and `assertCanGrant`
 * allow `permission` at `role` in a scope of `kind`, as an SQL condition. Enumerated by calling
 * those very functions on every pair, so the guard inside a batch and the error the read-back
 * explains cannot disagree. Cached: a handful of role combinations.
 */
const allowedPairsCache = new Map<string, string>();
function allowedPairsSql(kind: InviteScope["kind"], permission: OrgPermission, role: OrgRole): string {
  const cacheKey = `${kind}/${permission}/${role}`;
  const cached = allowedPairsCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const pairs: string[] = [];
  for (const orgRole of ORG_ROLES) {
    for (const projectRole of kind === "organization" ? [null] : [null, ...PROJECT_ROLES]) {
      const row =
        kind === "organization"
          ? { id: "", name: "", slug: "", created_at: 0, max_members: null, role: orgRole }
          : {
              id: "",
              organization_id: "",
              name: "",
              created_at: 0,
              org_name: "",
              org_slug: "",
              org_created_at: 0,
              org_max_members: null,
              org_role: orgRole,
              project_role: projectRole,
            };
      try {
        const access = authorizeScope(
          row,
          kind === "organization" ? { kind, orgId: "" } : { kind, projectId: "" },
          permission,
        );
        assertCanGrant(access.orgRole, role);
        pairs.push(`'${orgRole}/${projectRole ?? ""}'`);
      } catch {
        // not allowed
      }
    }
  }
  const sql =
    pairs.length === 0
      ? "0"
      : kind === "organization"
        ? `ou.role IN (${pairs.map((p) => p.replace("/", "")).join(", ")})`
        : `(ou.role || '/' || COALESCE(pa.role, '')) IN (${pairs.join(", ")})`;
  allowedPairsCache.set(cacheKey, sql);
  return sql;
}

/**
 * Invites each address to the scope in ONE D1 round trip whatever the number of addresses (plus
 * one only when enqueueing the emails fails). One batch, one transaction:
 *   the caller's access (read first: it explains a refusal), the stale pending invites of these
 *   addresses expired (audited), the new invites inserted, their audit rows, the rate counters
 *   incremented by what was inserted, and each address's outcome read back.
 * Every write is guarded in SQL by the caller's access and rank (`allowedPairsSql`, enumerated
 * from the same JS rules that name the error), so a refused request writes nothing. The insert is
 * also guarded by the rate limits (counts + new addresses ≤ limit, all or nothing) and skips
 * members (by verified address) and addresses with a pending invite (ON CONFLICT on the
 * one-pending index); the statements after it are keyed on this request's fresh invite ids, so
 * they act exactly when the insert did. Addresses travel as one JSON parameter (`json_each`), so no
 * statement comes near D1's 100 bound parameters. A batch is serialized against every other
 * write: concurrent requests cannot both insert an address or together overshoot a limit.
 */
export async function createInvites(db: Db, queue: InviteQueue, input: CreateInvitesInput): Promise<CreateResult[]> {
  const { scope, inviterId, now } = input;
  const emails = [...new Set(input.emails)];
  if (emails.length === 0 || emails.length > MAX_EMAILS_PER_REQUEST) {
    throw new ApiError("VALIDATION_FAILED", `Send 1 to ${MAX_EMAILS_PER_REQUEST} addresses.`);
  }
  const org = orgIdSql(scope);
  const scopeParam = scope.kind === "organization" ? scope.orgId : scope.projectId;
  // Matches the one-pending index (email, organization_id, COALESCE(project_id, '')).
  const inScope = (a: string) => `${a}.organization_id = ${org.sql} AND COALESCE(${a}.project_id, '') = ?`;
  const inScopeParams = [org.param, scope.kind === "organization" ? "" : scope.projectId];
  const hourStart = Math.floor(now / HOUR_MS) * HOUR_MS;
  const userKey = `invite:user:${inviterId}`;
  const allowed = {
    sql:
      scope.kind === "organization"
        ? `EXISTS (SELECT 1 FROM organization_users ou JOIN organizations o ON o.id = ou.organization_id
             WHERE ou.organization_id = ? AND ou.user_id = ? AND ${allowedPairsSql(scope.kind, "members:invite", input.role)})`
        : `EXISTS (SELECT 1 FROM projects p JOIN organizations o ON o.id = p.organization_id
             JOIN organization_users ou ON ou.organization_id = p.organization_id AND ou.user_id = ?
             LEFT JOIN project_admins pa ON pa.project_id = p.id AND pa.admin_id = ?
             WHERE p.id = ? AND ${allowedPairsSql(scope.kind, "members:invite", input.role)})`,
    params: scope.kind === "organization" ? [scope.orgId, inviterId] : [inviterId, inviterId, scope.projectId],
  };
  const isMember = (email: string) =>
    scope.kind === "organization"
      ? `EXISTS (SELECT 1 FROM user_emails ue JOIN organization_users m ON m.user_id = ue.user_id AND m.organization_id = ?
                 WHERE ue.email = ${email} AND ue.verified = 1)`
      : `EXISTS (SELECT 1 FROM user_emails ue JOIN project_admins m ON m.admin_id = ue.user_id AND m.project_id = ?
                 WHERE ue.email = ${email} AND ue.verified = 1)`;
  const rateCount = (keySql: string) =>
    `COALESCE((SELECT count FROM rate_limits WHERE key = ${keySql} AND window_start = ?), 0)`;
  const orgKeySql = `'invite:org:' || ${org.sql}`;

  const fresh: NewInvite[] = await Promise.all(
    emails.map(async (email) => {
      const token = generateToken();
      return { id: newId("invite"), email, token, hash: await sha256Hex(token), auditId: newId("auditEvent") };
    }),
  );
  const freshJson = JSON.stringify(fresh.map((f) => ({ id: f.id, email: f.email, hash: f.hash, auditId: f.auditId })));
  const staleJson = JSON.stringify(emails.map((email) => ({ email, auditId: newId("auditEvent") })));
  const expiresAt = now + input.ttlDays * DAY_MS;
  // How many addresses this request would invite anew (the stale expired first: no longer pending).
  const newCount = `(SELECT count(*) FROM json_each(?) j
      WHERE NOT ${isMember("j.value ->> 'email'")}
        AND NOT EXISTS (SELECT 1 FROM invites x WHERE x.email = j.value ->> 'email' AND ${inScope("x")}
                          AND x.status = 'pending' AND x.expires_at > ?))`;
  const newCountParams = [freshJson, scopeParam, ...inScopeParams, now];
  const created = `(SELECT count(*) FROM invites WHERE id IN (SELECT j.value ->> 'id' FROM json_each(?) j))`;

  const results = await db.batch([
    scopeAccessStatement(db, scope, inviterId),
    // A pending invite past its expiry that the cron has not marked yet is expired first, so that
    // it frees the one-pending-invite slot (actor: the system, as the cron). INDEXED BY: left to
    // itself the planner scans every overdue invite (invites_status_expires): 2 ms in the bench.
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT j.value ->> 'auditId', i.organization_id, NULL, 'invite.expired', 'invite', i.id,
                json_object('email', i.email, 'expiresAt', strftime('%Y-%m-%dT%H:%M:%fZ', i.expires_at / 1000.0, 'unixepoch')), ?
         FROM json_each(?) j JOIN invites i INDEXED BY invites_one_pending ON i.email = j.value ->> 'email' AND ${inScope("i")}
         WHERE i.status = 'pending' AND i.expires_at <= ? AND ${allowed.sql}`,
      )
      .bind(now, staleJson, ...inScopeParams, now, ...allowed.params),
    db
      .prepare(
        `UPDATE invites SET status = 'expired', updated_at = ?
         WHERE id IN (SELECT i.id FROM json_each(?) j
                      JOIN invites i INDEXED BY invites_one_pending ON i.email = j.value ->> 'email' AND ${inScope("i")}
                      WHERE i.status = 'pending' AND i.expires_at <= ?)
           AND ${allowed.sql}`,
      )
      .bind(now, staleJson, ...inScopeParams, now, ...allowed.params),
    db
      .prepare(
        `INSERT INTO invites (id, organization_id, project_id, email, role, project_role, status, token_hash,
                              token_version, invited_by, expires_at, created_at, updated_at)
         SELECT j.value ->> 'id', ${org.sql}, ?, j.value ->> 'email', ?, ?, 'pending', j.value ->> 'hash',
                1, ?, ?, ?, ?
         FROM json_each(?) j
         WHERE NOT ${isMember("j.value ->> 'email'")}
           AND ${allowed.sql}
           -- both windows have the same limit (inviteWindows)
           AND max(${rateCount(orgKeySql)}, ${rateCount("?")}) + ${newCount} <= ?
         ON CONFLICT DO NOTHING`,
      )
      .bind(
        org.param,
        scope.kind === "organization" ? null : scope.projectId,
        input.role,
        input.projectRole,
        inviterId,
        expiresAt,
        now,
        now,
        freshJson,
        scopeParam,
        ...allowed.params,
        org.param,
        hourStart,
        userKey,
        hourStart,
        ...newCountParams,
        input.ratePerHour,
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
    // Both windows count what was inserted (nothing when the insert was refused).
    db
      .prepare(
        `INSERT INTO rate_limits (key, window_start, count)
         SELECT k.key, ?, c.n FROM (SELECT ${orgKeySql} AS key UNION ALL SELECT ? AS key) k, (SELECT ${created} AS n) c
         WHERE c.n > 0
         ON CONFLICT (key, window_start) DO UPDATE SET count = count + excluded.count`,
      )
      .bind(hourStart, org.param, userKey, freshJson),
    // Each address in request order: member (not checked for what this request created), its
    // pending invite in the scope, whether this request created it; and the counts (for a 429).
    db
      .prepare(
        `SELECT j.key AS ord, j.value ->> 'email' AS req_email,
                CASE WHEN i.id = j.value ->> 'id' THEN 1 ELSE 0 END AS created,
                CASE WHEN i.id = j.value ->> 'id' THEN 0 ELSE ${isMember("j.value ->> 'email'")} END AS member,
                ${rateCount(orgKeySql)} AS org_count, ${rateCount("?")} AS user_count,
                ${INVITE_COLUMNS}
         FROM json_each(?) j
         LEFT JOIN invites i ON i.email = j.value ->> 'email' AND ${inScope("i")} AND i.status = 'pending'
         LEFT JOIN admins inviter ON inviter.id = i.invited_by`,
      )
      .bind(scopeParam, org.param, hourStart, userKey, hourStart, freshJson, ...inScopeParams),
  ]);

  const access = authorizeScope(results[0]?.results[0], scope, "members:invite");
  assertCanGrant(access.orgRole, input.role);

  type Outcome = InviteRow & {
    ord: number;
    req_email: string;
    created: number;
    member: number;
    org_count: number;
    user_count: number;
  };
  const rows = (results.at(-1)?.results ?? []) as Outcome[];
  const out: CreateResult[] = new Array(emails.length);
  const createdInvites: NewInvite[] = [];
  let refused = 0;
  for (const row of rows) {
    const f = fresh[row.ord] as NewInvite;
    if (row.member === 1) {
      out[row.ord] = { email: f.email, outcome: "already_member", invite: null };
    } else if (row.id !== null) {
      if (row.created === 1) createdInvites.push(f);
      out[row.ord] = {
        email: f.email,
        outcome: row.created === 1 ? "invited" : "already_invited",
        invite: toInvite(row, now),
      };
    } else {
      refused++;
    }
  }
  if (refused > 0 || rows.length !== emails.length) {
    // The insert was refused: the only guard left is the rate limits (counts read after it).
    const windows = inviteWindows(access.orgId, inviterId, input.ratePerHour, now);
    const counts = rateCounts([
      { key: windows[0]?.key ?? "", count: rows[0]?.org_count ?? 0 },
      { key: userKey, count: rows[0]?.user_count ?? 0 },
    ]);
    assertWithinLimit(windows, counts, refused, now);
    throw new ApiError("CONFLICT", "The invites changed while they were being created; try again.");
  }

  const failed = await enqueueInviteEmails(
    db,
    queue,
    createdInvites.map((f) => ({ type: "invite", inviteId: f.id, tokenVersion: 1, token: f.token })),
  );
  for (const result of out) {
    if (result.invite !== null && failed.has(result.invite.id)) markDeliveryFailed(result.invite);
  }
  return out;
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
 * SQL over `ou.role` (the caller's organization role), `pa.role` (their project role) and
 * `i.role` (the invite's) that holds exactly when `authorizeManaged` and `assertCanGrant` let the
 * caller `permission` the invite: enumerated by calling them, so the guard in the batch and the
 * error named from the read-back cannot disagree.
 */
const managedSqlCache = new Map<string, string>();
function managedAllowedSql(permission: OrgPermission): string {
  const cached = managedSqlCache.get(permission);
  if (cached !== undefined) return cached;
  const callers: string[] = [];
  const grants: string[] = [];
  for (const orgRole of ORG_ROLES) {
    for (const projectRole of [null, ...PROJECT_ROLES]) {
      try {
        authorizeManaged(
          { caller_org_role: orgRole, caller_project_role: projectRole } as ManagedInviteRow,
          permission,
        );
        callers.push(`'${orgRole}/${projectRole ?? ""}'`);
      } catch {
        // not allowed
      }
    }
    for (const role of ORG_ROLES) if (canGrantOrgRole(orgRole, role)) grants.push(`'${orgRole}/${role}'`);
  }
  const sql =
    callers.length === 0
      ? "0"
      : `(ou.role || '/' || COALESCE(pa.role, '')) IN (${callers.join(", ")}) AND (ou.role || '/' || i.role) IN (${grants.join(", ")})`;
  managedSqlCache.set(permission, sql);
  return sql;
}

/**
 * Resend: a new token (the old link dies with its hash), token_version + 1, a new expiry, delivery
 * reset to queued, and the email queued again. Allowed for pending and expired invites (expired
 * becomes pending again); accepted → 409 INVITE_ALREADY_ACCEPTED, declined / revoked → 410.
 * Counts against the invite rate limit (it sends an email). A resend re-grants the invite's role,
 * so the caller must be allowed to grant it (ROLE_ABOVE_OWN otherwise), and becomes the invite's
 * inviter: the email names them and acceptance re-checks their role (so an admin can revive an
 * invite whose original inviter has since been demoted).
 *
 * One round trip: one batch whose first statement reads the invite, the caller's roles, any other
 * pending invite for the address and the rate counts (what explains a refusal); every write after
 * it is guarded by the whole condition in SQL (`go`): the caller may resend at the invite's role,
 * the invite is pending or expired, no other unexpired pending invite for the address, and both
 * rate windows have room. So a refused resend writes nothing, and the JS checks on the first
 * row name the error. The counters are incremented only when the UPDATE stored this request's
 * token hash.
 */
export async function resendInvite(
  db: Db,
  queue: InviteQueue,
  input: { inviteId: string; userId: string; now: number; ttlDays: number; ratePerHour: number },
): Promise<Invite> {
  const { inviteId, userId, now } = input;
  const hourStart = Math.floor(now / HOUR_MS) * HOUR_MS;
  const userKey = `invite:user:${userId}`;
  const token = generateToken();
  const hash = await sha256Hex(token);
  const expiresAt = now + input.ttlDays * DAY_MS;
  const sameAddress = `o.id <> i.id AND o.status = 'pending' AND o.email = i.email
    AND o.organization_id = i.organization_id AND COALESCE(o.project_id, '') = COALESCE(i.project_id, '')`;
  const orgCount = `COALESCE((SELECT count FROM rate_limits WHERE key = 'invite:org:' || i.organization_id AND window_start = ?), 0)`;
  const userCount = "COALESCE((SELECT count FROM rate_limits WHERE key = ? AND window_start = ?), 0)";
  const go = {
    sql: `EXISTS (SELECT 1 FROM invites i
      JOIN organization_users ou ON ou.organization_id = i.organization_id AND ou.user_id = ?
      LEFT JOIN project_admins pa ON pa.project_id = i.project_id AND pa.admin_id = ?
      WHERE i.id = ? AND i.status IN ('pending', 'expired') AND ${managedAllowedSql("invites:resend")}
        AND NOT EXISTS (SELECT 1 FROM invites o WHERE ${sameAddress} AND o.expires_at > ?)
        AND ${orgCount} + 1 <= ? AND ${userCount} + 1 <= ?)`,
    params: [userId, userId, inviteId, now, hourStart, input.ratePerHour, userKey, hourStart, input.ratePerHour],
  };
  let results: D1Result[];
  try {
    results = await db.batch([
      db
        .prepare(
          `SELECT ${INVITE_COLUMNS}, ou.role AS caller_org_role, pa.role AS caller_project_role,
                  (SELECT name FROM admins WHERE id = ?) AS caller_name,
                  (SELECT max(o.expires_at) FROM invites o WHERE ${sameAddress}) AS other_expires_at,
                  ${orgCount} AS org_count, ${userCount} AS user_count
           FROM ${INVITE_FROM}
           LEFT JOIN organization_users ou ON ou.organization_id = i.organization_id AND ou.user_id = ?
           LEFT JOIN project_admins pa ON pa.project_id = i.project_id AND pa.admin_id = ?
           WHERE i.id = ?`,
        )
        .bind(userId, hourStart, userKey, hourStart, userId, userId, inviteId),
      // Another pending invite for the address past its expiry (possible once this one expired):
      // expired first, audited (actor: the system), so this one can become pending.
      db
        .prepare(
          `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
           SELECT ?, o.organization_id, NULL, 'invite.expired', 'invite', o.id,
                  json_object('email', o.email, 'expiresAt', strftime('%Y-%m-%dT%H:%M:%fZ', o.expires_at / 1000.0, 'unixepoch')), ?
           FROM invites i JOIN invites o ON ${sameAddress} AND o.expires_at <= ?
           WHERE i.id = ? AND ${go.sql}`,
        )
        .bind(newId("auditEvent"), now, now, inviteId, ...go.params),
      db
        .prepare(
          `UPDATE invites SET status = 'expired', updated_at = ?
           WHERE id IN (SELECT o.id FROM invites i JOIN invites o ON ${sameAddress} AND o.expires_at <= ? WHERE i.id = ?)
             AND ${go.sql}`,
        )
        .bind(now, now, inviteId, ...go.params),
      db
        .prepare(
          `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
           SELECT ?, i.organization_id, ?, 'invite.resent', 'invite', i.id,
                  json_object('email', i.email,
                              'fromStatus', CASE WHEN i.status = 'pending' AND i.expires_at <= ? THEN 'expired' ELSE i.status END,
                              'tokenVersion', i.token_version + 1, 'previousInviter', i.invited_by, 'expiresAt', ?), ?
           FROM invites i WHERE i.id = ? AND ${go.sql}`,
        )
        .bind(newId("auditEvent"), userId, now, iso(expiresAt), now, inviteId, ...go.params),
      db
        .prepare(
          `UPDATE invites SET status = 'pending', token_hash = ?, token_version = token_version + 1, expires_at = ?,
                  invited_by = ?, updated_at = ?, delivery_status = 'queued', delivery_attempts = 0,
                  delivery_error = NULL, delivery_sent_at = NULL
           WHERE id = ? AND ${go.sql}`,
        )
        .bind(hash, expiresAt, userId, now, inviteId, ...go.params),
      db
        .prepare(
          `INSERT INTO rate_limits (key, window_start, count)
           SELECT k.key, ?, 1 FROM invites i
           JOIN (SELECT 'invite:org:' || organization_id AS key FROM invites WHERE id = ? UNION ALL SELECT ? AS key) k
           WHERE i.id = ? AND i.token_hash = ?
           ON CONFLICT (key, window_start) DO UPDATE SET count = count + excluded.count`,
        )
        .bind(hourStart, inviteId, userKey, inviteId, hash),
    ]);
  } catch (error) {
    // The one-pending-invite index (kept as the last line of defence).
    if (isUniqueViolation(error)) throw alreadyPending();
    throw error;
  }
  type ReadRow = ManagedInviteRow & {
    caller_name: string | null;
    other_expires_at: number | null;
    org_count: number;
    user_count: number;
  };
  const row = authorizeManaged(results[0]?.results[0] as ReadRow | undefined, "invites:resend") as ReadRow & {
    caller_org_role: OrgRole;
  };
  assertCanGrant(row.caller_org_role, row.role);
  if (row.status !== "pending" && row.status !== "expired") throw finishedInviteError(row.status);
  if (row.other_expires_at !== null && row.other_expires_at > now) throw alreadyPending();
  const windows = inviteWindows(row.organization_id, userId, input.ratePerHour, now);
  assertWithinLimit(
    windows,
    rateCounts([
      { key: windows[0]?.key ?? "", count: row.org_count },
      { key: userKey, count: row.user_count },
    ]),
    1,
    now,
  );
  if (changes(results[4] as D1Result) !== 1) throw new ApiError("CONFLICT", "The invite changed meanwhile; try again.");
  // The row as the UPDATE left it (same transaction: the first read plus exactly what it set).
  const invite = toInvite(
    {
      ...row,
      status: "pending",
      token_version: row.token_version + 1,
      expires_at: expiresAt,
      invited_by: userId,
      inviter_name: row.caller_name,
      updated_at: now,
      delivery_status: "queued",
      delivery_attempts: 0,
      delivery_error: null,
      delivery_sent_at: null,
    },
    now,
  );
  const failed = await enqueueInviteEmails(db, queue, [
    { type: "invite", inviteId, tokenVersion: row.token_version + 1, token },
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
 * Like resend, only a caller who may grant the invite's role revokes it (403 ROLE_ABOVE_OWN).
 * Accepted → 409 INVITE_ALREADY_ACCEPTED (remove the member instead); declined → 410.
 *
 * One round trip: one batch whose first statement reads the invite and the caller's roles (what
 * names a refusal); the audit row and the UPDATE after it are guarded by the whole condition in
 * SQL — the caller still manages the invite and may grant its role, and it is pending or expired —
 * so a caller removed or demoted before the batch runs neither revokes nor becomes the audit actor.
 */
export async function revokeInvite(db: Db, input: { inviteId: string; userId: string; now: number }): Promise<void> {
  const { inviteId, userId, now } = input;
  const go = {
    sql: `EXISTS (SELECT 1 FROM invites i
      JOIN organization_users ou ON ou.organization_id = i.organization_id AND ou.user_id = ?
      LEFT JOIN project_admins pa ON pa.project_id = i.project_id AND pa.admin_id = ?
      WHERE i.id = ? AND i.status IN ('pending', 'expired') AND ${managedAllowedSql("invites:revoke")})`,
    params: [userId, userId, inviteId],
  };
  const results = await db.batch([
    managedInviteStatement(db, inviteId, userId),
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, i.organization_id, ?, 'invite.revoked', 'invite', i.id,
                json_object('email', i.email,
                            'fromStatus', CASE WHEN i.status = 'pending' AND i.expires_at <= ? THEN 'expired' ELSE i.status END), ?
         FROM invites i WHERE i.id = ? AND ${go.sql}`,
      )
      .bind(newId("auditEvent"), userId, now, now, inviteId, ...go.params),
    db
      .prepare(`UPDATE invites SET status = 'revoked', updated_at = ? WHERE id = ? AND ${go.sql}`)
      .bind(now, inviteId, ...go.params),
  ]);
  const row = authorizeManaged(results[0]?.results[0] as ManagedInviteRow | undefined, "invites:revoke");
  assertCanGrant(row.caller_org_role, row.role, "revoke an invite at");
  if (changes(results[2] as D1Result) === 1 || row.status === "revoked") return;
  throw finishedInviteError(row.status);
}

// ---------------------------------------------------------------------------------------------
// The invitee's side
// ---------------------------------------------------------------------------------------------

/** How the invitee names an invite: the token from the email link, or its id (the banner). */
export type InviteKey = { token: string } | { id: string };

async function keyCondition(key: InviteKey): Promise<{ sql: string; param: string }> {
  return "token" in key
    ? { sql: "i.token_hash = ?", param: await sha256Hex(key.token) }
    : { sql: "i.id = ?", param: key.id };
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
  const hash = await sha256Hex(input.token);
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
 * acceptance condition is checked inside the batch, at accept time, ONCE, by the guarded UPDATE:
 *   the invite is pending and unexpired (`expires_at > now`), a verified address of the caller
 *   equals the invite's, the inviter still holds a role that may invite at the invite's role,
 *   and a seat is left (or the caller is already a member) — plus the per-IP limit by token.
 * The UPDATE stamps a per-request random `accept_nonce`; every later statement is keyed on
 * (invite, nonce) — a primary-key or token-hash lookup — so it acts exactly when this request's
 * UPDATE did: the audit rows (one statement; `member.added` / `project_member.added` only for a
 * membership that did not exist yet, so they come before the inserts), the organization
 * membership (ON CONFLICT DO NOTHING: an existing org role is kept), the project membership
 * (likewise), and one read: the views to answer with, or — only when the nonce is not ours — the
 * diagnosis that names the contract error. Of any number of concurrent accepts exactly one UPDATE
 * matches, and the losers' nonces match nothing, even within the same millisecond.
 */
export async function acceptInvite(
  db: Db,
  input: { key: InviteKey; userId: string; now: number; rate?: RateWindow },
): Promise<AcceptResult> {
  const { userId, now, rate } = input;
  const key = await keyCondition(input.key);
  const nonce = crypto.randomUUID();
  const guard = rate ? rateGuard([rate]) : { sql: "1", params: [] };
  const from = "FROM invites i JOIN organizations o ON o.id = i.organization_id";
  const mine = { sql: `${key.sql} AND i.accept_nonce = ?`, params: [key.param, nonce] };
  const statements = [
    ...(rate ? [rateIncrementStatement(db, rate, 1)] : []),
    db
      .prepare(
        `UPDATE invites SET status = 'accepted', accepted_by = ?, accepted_at = ?, updated_at = ?, accept_nonce = ?
         WHERE id IN (SELECT i.id ${from}
                      WHERE ${key.sql} AND i.status = 'pending' AND i.expires_at > ?
                        AND EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ? AND ue.verified = 1 AND ue.email = i.email)
                        AND ${INVITER_STILL_ALLOWED_SQL}
                        AND ${SEAT_AVAILABLE_SQL}
                        AND ${guard.sql})`,
      )
      .bind(userId, now, now, nonce, key.param, now, userId, userId, ...guard.params),
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, i.organization_id, ?, 'invite.accepted', 'invite', i.id,
                json_object('email', i.email, 'role', i.role, 'projectId', i.project_id, 'projectRole', i.project_role), ?
         FROM invites i WHERE ${mine.sql}
         UNION ALL
         SELECT ?, i.organization_id, ?, 'member.added', 'member', ?, json_object('role', i.role, 'inviteId', i.id), ?
         FROM invites i WHERE ${mine.sql}
           AND NOT EXISTS (SELECT 1 FROM organization_users m WHERE m.organization_id = i.organization_id AND m.user_id = ?)
         UNION ALL
         SELECT ?, i.organization_id, ?, 'project_member.added', 'project_member', ?,
                json_object('projectId', i.project_id, 'role', i.project_role, 'inviteId', i.id), ?
         FROM invites i WHERE ${mine.sql} AND i.project_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM project_admins pa WHERE pa.project_id = i.project_id AND pa.admin_id = ?)`,
      )
      .bind(
        newId("auditEvent"),
        userId,
        now,
        ...mine.params,
        newId("auditEvent"),
        userId,
        userId,
        now,
        ...mine.params,
        userId,
        newId("auditEvent"),
        userId,
        userId,
        now,
        ...mine.params,
        userId,
      ),
    db
      .prepare(
        `INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
         SELECT i.organization_id, ?, i.role, ?, ? FROM invites i WHERE ${mine.sql}
         ON CONFLICT DO NOTHING`,
      )
      .bind(userId, now, now, ...mine.params),
    db
      .prepare(
        `INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at)
         SELECT i.project_id, ?, i.project_role, ?, ? FROM invites i WHERE ${mine.sql} AND i.project_id IS NOT NULL
         ON CONFLICT DO NOTHING`,
      )
      .bind(userId, now, now, ...mine.params),
    // Always one row (the invite may not exist). The diagnosis columns are evaluated only when the
    // UPDATE was not ours (CASE is lazy): after a refused UPDATE nothing changed, so they describe
    // the state the guard saw.
    db
      .prepare(
        `SELECT i.id AS invite_id, i.status, i.expires_at, coalesce(i.accept_nonce = x.nonce, 0) AS mine,
                CASE WHEN i.accept_nonce = x.nonce THEN 1 ELSE EXISTS (
                  SELECT 1 FROM user_emails ue WHERE ue.user_id = ? AND ue.email = i.email AND ue.verified = 1) END
                  AS verified_match,
                CASE WHEN i.accept_nonce = x.nonce THEN 1 ELSE EXISTS (
                  SELECT 1 FROM user_emails ue WHERE ue.user_id = ? AND ue.email = i.email) END AS any_match,
                CASE WHEN i.accept_nonce = x.nonce THEN 1 ELSE ${INVITER_STILL_ALLOWED_SQL} END AS inviter_ok,
                CASE WHEN i.accept_nonce = x.nonce THEN 1 ELSE ${SEAT_AVAILABLE_SQL} END AS seat_ok,
                o.id, o.name, o.slug, o.created_at, o.max_members, ou.role AS org_role,
                p.id AS project_id, p.name AS project_name, p.created_at AS project_created_at,
                pa.role AS project_role,
                ${rate ? "(SELECT count FROM rate_limits WHERE key = ? AND window_start = ?)" : "NULL"} AS rate_count
         FROM (SELECT ? AS nonce) x
         LEFT JOIN invites i ON ${key.sql}
         LEFT JOIN organizations o ON o.id = i.organization_id
         LEFT JOIN organization_users ou ON ou.organization_id = o.id AND ou.user_id = ?
         LEFT JOIN projects p ON p.id = i.project_id
         LEFT JOIN project_admins pa ON pa.project_id = p.id AND pa.admin_id = ?`,
      )
      .bind(userId, userId, userId, ...(rate ? [rate.key, rate.windowStart] : []), nonce, key.param, userId, userId),
  ];
  const results = await db.batch(statements);
  const view = results.at(-1)?.results[0] as
    | (InviteDiagnosis & {
        invite_id: string | null;
        mine: number;
        id: string;
        name: string;
        slug: string;
        created_at: number;
        max_members: number | null;
        org_role: OrgRole | null;
        project_id: string | null;
        project_name: string | null;
        project_created_at: number | null;
        project_role: ProjectRole | null;
        rate_count: number | null;
      })
    | undefined;
  if (changes(results[rate ? 1 : 0] as D1Result) === 0 || view?.mine !== 1) {
    if (rate) assertNotOver([rate], rateCounts([{ key: rate.key, count: view?.rate_count ?? 0 }]), now);
    const d = view?.invite_id == null ? undefined : view;
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
  if (view.org_role === null) throw new ApiError("INTERNAL", "The accepted invite could not be read back.");
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
