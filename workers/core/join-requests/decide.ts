import type { JoinRequestDecidedMessage } from "../../email-consumer/messages-notifications";
import { changes, type Db } from "../db";
import { ApiError } from "../errors";
import { newId } from "../ids";
import { canGrantOrgRole, hasPermission, ORG_ROLES, type OrgRole } from "../roles";
import {
  JOIN_REQUEST_COLUMNS,
  JOIN_REQUEST_FROM,
  type JoinRequest,
  type JoinRequestRow,
  seatAvailableSql,
  toJoinRequest,
} from "./views";

/**
 * An admin's decision on a join request: approve (with a role) or deny. ONE D1 batch each, one
 * round trip, shaped like accepting an invite: the guarded UPDATE first — the request is
 * `pending`, the caller holds members:invite in its organization at a rank that may grant the
 * role, and (approval) a seat is left — stamping a per-request random `decision_nonce`; every
 * later statement (audit rows, the membership) is keyed on (request, nonce), so it acts exactly
 * when this request's UPDATE did. Two admins deciding at once: one UPDATE matches, the other's
 * nonce matches nothing and it answers 409 CONFLICT. A refusal writes nothing; the last read
 * (the row, the caller's role, the seat) names the error.
 */

/** The producer side of EMAIL_QUEUE for decision notices (a test can pass a spy). */
export type DecisionQueue = Pick<Queue<JoinRequestDecidedMessage>, "sendBatch">;

type Decision = "approved" | "denied";

/** Roles that may decide at `role` (approval) or at all (denial), from the one permission table. */
function deciderRolesSql(role: OrgRole | null): string {
  return ORG_ROLES.filter((r) => hasPermission(r, "members:invite") && (role === null || canGrantOrgRole(r, role)))
    .map((r) => `'${r}'`)
    .join(", ");
}

export async function decideJoinRequest(
  db: Db,
  queue: DecisionQueue,
  input: { requestId: string; userId: string; decision: Decision; role: OrgRole; now: number },
): Promise<JoinRequest> {
  const { requestId, userId, decision, now } = input;
  const role = decision === "approved" ? input.role : null;
  const nonce = crypto.randomUUID();
  const mine = "r.id = ? AND r.decision_nonce = ?";
  const seat = seatAvailableSql("join_requests.organization_id", "join_requests.user_id");
  const statements = [
    db
      .prepare(
        `UPDATE join_requests SET status = ?, role = ?, decided_at = ?, decided_by = ?, updated_at = ?, decision_nonce = ?
         WHERE id = ? AND status = 'pending'
           AND EXISTS (SELECT 1 FROM organization_users ou
                       WHERE ou.organization_id = join_requests.organization_id AND ou.user_id = ?
                         AND ou.role IN (${deciderRolesSql(role)}))
           AND (? = 'denied' OR ${seat})`,
      )
      .bind(decision, role, now, userId, now, nonce, requestId, userId, decision),
    // member.added only for a membership that did not exist yet, so before the insert.
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, r.organization_id, ?, 'join_request.' || r.status, 'join_request', r.id,
                json_object('userId', r.user_id, 'role', r.role), ?
         FROM join_requests r WHERE ${mine}
         UNION ALL
         SELECT ?, r.organization_id, ?, 'member.added', 'member', r.user_id,
                json_object('role', r.role, 'joinRequestId', r.id), ?
         FROM join_requests r WHERE ${mine} AND r.status = 'approved'
           AND NOT EXISTS (SELECT 1 FROM organization_users m WHERE m.organization_id = r.organization_id AND m.user_id = r.user_id)`,
      )
      .bind(newId("auditEvent"), userId, now, requestId, nonce, newId("auditEvent"), userId, now, requestId, nonce),
    db
      .prepare(
        `INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
         SELECT r.organization_id, r.user_id, r.role, ?, ? FROM join_requests r WHERE ${mine} AND r.status = 'approved'
         ON CONFLICT DO NOTHING`,
      )
      .bind(now, now, requestId, nonce),
    db
      .prepare(
        `SELECT ${JOIN_REQUEST_COLUMNS}, coalesce(r.decision_nonce = ?, 0) AS mine, ou.role AS caller_role,
                ${seatAvailableSql("r.organization_id", "r.user_id")} AS seat_ok
         FROM ${JOIN_REQUEST_FROM}
         LEFT JOIN organization_users ou ON ou.organization_id = r.organization_id AND ou.user_id = ?
         WHERE r.id = ?`,
      )
      .bind(nonce, userId, requestId),
  ];
  const results = await db.batch(statements);
  const row = results.at(-1)?.results[0] as
    | (JoinRequestRow & { mine: number; caller_role: OrgRole | null; seat_ok: number })
    | undefined;
  if (changes(results[0] as D1Result) !== 1 || row?.mine !== 1) {
    // Only those who may decide see the request (anyone else: 404, no oracle).
    if (row === undefined || row.caller_role === null || !hasPermission(row.caller_role, "members:invite")) {
      throw new ApiError("NOT_FOUND", "No such join request.");
    }
    if (role !== null && !canGrantOrgRole(row.caller_role, role)) {
      throw new ApiError("ROLE_ABOVE_OWN", `You cannot grant ${role}: it is above your own role (${row.caller_role}).`);
    }
    if (row.status !== "pending") {
      throw new ApiError("CONFLICT", `This join request was already decided (${row.status}).`);
    }
    if (role !== null && row.seat_ok !== 1) {
      throw new ApiError("SEAT_LIMIT_REACHED", "This organization has no seat left; make room, then approve.");
    }
    throw new ApiError("CONFLICT", "The join request changed meanwhile; try again.");
  }
  await notifyDecision(queue, { type: "join_request_decided", requestId, status: decision });
  return toJoinRequest(row);
}

/**
 * Queues the requester's notice after the decision committed. A failed send is logged, not
 * retried here: the decision stands and the requester sees it in GET /v1/me/join-requests.
 */
async function notifyDecision(queue: DecisionQueue, message: JoinRequestDecidedMessage): Promise<void> {
  try {
    await queue.sendBatch([{ body: message, contentType: "json" }]);
  } catch (error) {
    console.error(
      JSON.stringify({
        event: "join_request.notify_enqueue_failed",
        requestId: message.requestId,
        error: error instanceof Error ? error.name : "unknown",
      }),
    );
  }
}

/**
 * The requester withdraws their pending request: it becomes `withdrawn`, audited once (the audit
 * row is guarded by the very condition of the UPDATE after it). Withdrawing a withdrawn request
 * again is a no-op; a decided one → 409 CONFLICT; someone else's → 404. One round trip.
 */
export async function withdrawJoinRequest(
  db: Db,
  input: { requestId: string; userId: string; now: number },
): Promise<void> {
  const { requestId, userId, now } = input;
  const cond = "r.id = ? AND r.user_id = ? AND r.status = 'pending'";
  const results = await db.batch([
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, r.organization_id, ?, 'join_request.withdrawn', 'join_request', r.id, json_object('userId', r.user_id), ?
         FROM join_requests r WHERE ${cond}`,
      )
      .bind(newId("auditEvent"), userId, now, requestId, userId),
    db
      .prepare(
        `UPDATE join_requests SET status = 'withdrawn', updated_at = ?, decided_at = ?
         WHERE id IN (SELECT r.id FROM join_requests r WHERE ${cond})`,
      )
      .bind(now, now, requestId, userId),
    db.prepare("SELECT status FROM join_requests WHERE id = ? AND user_id = ?").bind(requestId, userId),
  ]);
  if (changes(results[1] as D1Result) === 1) return;
  const status = (results[2]?.results[0] as { status: string } | undefined)?.status;
  if (status === undefined) throw new ApiError("NOT_FOUND", "No such join request.");
  if (status !== "withdrawn") throw new ApiError("CONFLICT", `This join request was already decided (${status}).`);
}
