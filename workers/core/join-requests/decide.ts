import { auditRowsStatement } from "../audit";
import { changes, type Db } from "../db";
import { ApiError } from "../errors";
import { orgRolesWith, roleIn } from "../guards";
import { newId } from "../ids";
import { canGrantOrgRole, hasPermission, type OrgRole } from "../roles";
import { prepare, sql } from "../sql";
import {
  JOIN_REQUEST_COLUMNS,
  JOIN_REQUEST_FROM,
  type JoinRequest,
  type JoinRequestRow,
  seatAvailable,
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
 * (the row, the caller's role, the seat) names the error. The requester's email is the
 * notification of the `join_request.approved` / `.denied` event (core/events/notifications.ts):
 * outbox-backed, once per event.
 */

type Decision = "approved" | "denied";

/** Roles that may decide at `role` (approval) or at all (denial), from the one permission table. */
function deciderRoles(role: OrgRole | null): OrgRole[] {
  return orgRolesWith("members:invite").filter((r) => role === null || canGrantOrgRole(r, role));
}

export async function decideJoinRequest(
  db: Db,
  input: { requestId: string; userId: string; decision: Decision; role: OrgRole; now: number },
): Promise<JoinRequest> {
  const { requestId, userId, decision, now } = input;
  const role = decision === "approved" ? input.role : null;
  const nonce = crypto.randomUUID();
  const mine = sql`r.id = ${requestId} AND r.decision_nonce = ${nonce}`;
  const seat = seatAvailable(sql`join_requests.organization_id`, sql`join_requests.user_id`);
  const statements = [
    prepare(
      db,
      sql`UPDATE join_requests SET status = ${decision}, role = ${role}, decided_at = ${now}, decided_by = ${userId},
                 updated_at = ${now}, decision_nonce = ${nonce}
          WHERE id = ${requestId} AND status = 'pending'
            AND EXISTS (SELECT 1 FROM organization_users ou
                        WHERE ou.organization_id = join_requests.organization_id AND ou.user_id = ${userId}
                          AND ${roleIn(sql`ou.role`, deciderRoles(role))})
            AND ${decision === "denied" ? sql`1` : seat}`,
    ),
    // member.added only for a membership that did not exist yet, so before the insert.
    auditRowsStatement(db, [
      {
        action: decision === "approved" ? "join_request.approved" : "join_request.denied",
        targetType: "join_request",
        id: newId("auditEvent"),
        organizationId: sql`r.organization_id`,
        actorId: userId,
        targetId: sql`r.id`,
        data: sql`json_object('userId', r.user_id, 'role', r.role)`,
        at: now,
        from: sql`FROM join_requests r WHERE ${mine}`,
      },
      {
        action: "member.added",
        targetType: "member",
        id: newId("auditEvent"),
        organizationId: sql`r.organization_id`,
        actorId: userId,
        targetId: sql`r.user_id`,
        data: sql`json_object('role', r.role, 'joinRequestId', r.id)`,
        at: now,
        from: sql`FROM join_requests r WHERE ${mine} AND r.status = 'approved'
          AND NOT EXISTS (SELECT 1 FROM organization_users m
                          WHERE m.organization_id = r.organization_id AND m.user_id = r.user_id)`,
      },
    ]),
    prepare(
      db,
      sql`INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
          SELECT r.organization_id, r.user_id, r.role, ${now}, ${now} FROM join_requests r
          WHERE ${mine} AND r.status = 'approved'
          ON CONFLICT DO NOTHING`,
    ),
    prepare(
      db,
      sql`SELECT ${JOIN_REQUEST_COLUMNS}, coalesce(r.decision_nonce = ${nonce}, 0) AS mine, ou.role AS caller_role,
                 ${seatAvailable(sql`r.organization_id`, sql`r.user_id`)} AS seat_ok
          FROM ${JOIN_REQUEST_FROM}
          LEFT JOIN organization_users ou ON ou.organization_id = r.organization_id AND ou.user_id = ${userId}
          WHERE r.id = ${requestId}`,
    ),
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
  return toJoinRequest(row);
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
  const cond = sql`r.id = ${requestId} AND r.user_id = ${userId} AND r.status = 'pending'`;
  const results = await db.batch([
    auditRowsStatement(db, [
      {
        action: "join_request.withdrawn",
        targetType: "join_request",
        id: newId("auditEvent"),
        organizationId: sql`r.organization_id`,
        actorId: userId,
        targetId: sql`r.id`,
        data: sql`json_object('userId', r.user_id)`,
        at: now,
        from: sql`FROM join_requests r WHERE ${cond}`,
      },
    ]),
    prepare(
      db,
      sql`UPDATE join_requests SET status = 'withdrawn', updated_at = ${now}, decided_at = ${now}
          WHERE id IN (SELECT r.id FROM join_requests r WHERE ${cond})`,
    ),
    prepare(db, sql`SELECT status FROM join_requests WHERE id = ${requestId} AND user_id = ${userId}`),
  ]);
  if (changes(results[1] as D1Result) === 1) return;
  const status = (results[2]?.results[0] as { status: string } | undefined)?.status;
  if (status === undefined) throw new ApiError("NOT_FOUND", "No such join request.");
  if (status !== "withdrawn") throw new ApiError("CONFLICT", `This join request was already decided (${status}).`);
}
