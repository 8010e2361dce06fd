import type { Db } from "../db";
import { ApiError } from "../errors";
import { newId } from "../ids";
import {
  JOIN_REQUEST_COLUMNS,
  JOIN_REQUEST_FROM,
  type JoinRequest,
  type JoinRequestRow,
  MATCHING_DOMAIN_SQL,
  seatAvailableSql,
  toJoinRequest,
} from "./views";

/**
 * Asking to join an organization suggested to the caller (a claimed domain matches one of their
 * verified addresses). ONE D1 batch, one round trip:
 *   the diagnosis (member? a pending request? which domain matches, with which enrollment? a
 *   seat?), read before any write so it explains a refusal; the request inserted — `pending` for
 *   enrollment `request`, `approved` as `member` at once for `auto` — guarded by all of it (the
 *   one-pending index settles concurrent requests); the audit rows and, for `auto`, the membership,
 *   keyed on this request's fresh id so they act exactly when the insert did; the row read back.
 * In API.md's order: a member → 409 ALREADY_MEMBER; a pending request → that request (200); not
 * suggested → 404 (no oracle: an organization outside the caller's domains does not exist for
 * them); `auto` without a seat → 409 SEAT_LIMIT_REACHED.
 */
export async function createJoinRequest(
  db: Db,
  input: { orgId: string; userId: string; message: string | null; now: number },
): Promise<{ request: JoinRequest; created: boolean }> {
  const { orgId, userId, now } = input;
  const id = newId("joinRequest");
  const isMember = "EXISTS (SELECT 1 FROM organization_users WHERE organization_id = ? AND user_id = ?)";
  const pendingId = "(SELECT id FROM join_requests WHERE organization_id = ? AND user_id = ? AND status = 'pending')";
  const seat = seatAvailableSql("?", "?");
  const approved = `SELECT r.organization_id, r.user_id, r.role, r.id, r.domain FROM join_requests r
    WHERE r.id = ? AND r.status = 'approved'`;
  const results = await db.batch([
    db
      .prepare(
        `SELECT ${isMember} AS member, ${pendingId} AS pending_id,
                (SELECT enrollment FROM (${MATCHING_DOMAIN_SQL})) AS enrollment, ${seat} AS seat_ok`,
      )
      .bind(orgId, userId, orgId, userId, userId, orgId, userId, orgId),
    db
      .prepare(
        `INSERT INTO join_requests (id, organization_id, user_id, status, role, message, domain, created_at, updated_at,
                                    decided_at)
         SELECT ?, ?, ?, CASE m.enrollment WHEN 'auto' THEN 'approved' ELSE 'pending' END,
                CASE m.enrollment WHEN 'auto' THEN 'member' END, ?, m.domain, ?, ?,
                CASE m.enrollment WHEN 'auto' THEN ? END
         FROM (${MATCHING_DOMAIN_SQL}) m
         WHERE NOT ${isMember} AND ${pendingId} IS NULL AND (m.enrollment <> 'auto' OR ${seat})
         ON CONFLICT DO NOTHING`,
      )
      .bind(
        id,
        orgId,
        userId,
        input.message,
        now,
        now,
        now,
        userId,
        orgId,
        orgId,
        userId,
        orgId,
        userId,
        userId,
        orgId,
      ),
    // One statement, in order: created (always), then for `auto` the approval (actor: none, the
    // domain's policy decided) and member.added.
    db
      .prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         SELECT ?, r.organization_id, r.user_id, 'join_request.created', 'join_request', r.id,
                json_object('userId', r.user_id, 'domain', r.domain, 'message', r.message), ?
         FROM join_requests r WHERE r.id = ?
         UNION ALL
         SELECT ?, a.organization_id, NULL, 'join_request.approved', 'join_request', a.id,
                json_object('userId', a.user_id, 'role', a.role, 'enrollment', 'auto', 'domain', a.domain), ?
         FROM (${approved}) a
         UNION ALL
         SELECT ?, a.organization_id, a.user_id, 'member.added', 'member', a.user_id,
                json_object('role', a.role, 'joinRequestId', a.id), ?
         FROM (${approved}) a`,
      )
      .bind(newId("auditEvent"), now, id, newId("auditEvent"), now, id, newId("auditEvent"), now, id),
    db
      .prepare(
        `INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
         SELECT a.organization_id, a.user_id, a.role, ?, ? FROM (${approved}) a
         WHERE true -- (a WHERE keeps SQLite from reading ON CONFLICT as a join constraint)
         ON CONFLICT DO NOTHING`,
      )
      .bind(now, now, id),
    db
      .prepare(
        `SELECT ${JOIN_REQUEST_COLUMNS} FROM ${JOIN_REQUEST_FROM}
         WHERE r.id = ? OR r.id = ${pendingId} ORDER BY r.id = ? DESC LIMIT 1`,
      )
      .bind(id, orgId, userId, id),
  ]);
  const d = results[0]?.results[0] as
    | { member: number; pending_id: string | null; enrollment: string | null; seat_ok: number | null }
    | undefined;
  const row = results[4]?.results[0] as JoinRequestRow | undefined;
  if (d?.member === 1) throw new ApiError("ALREADY_MEMBER", "You are already a member of this organization.");
  if (d?.pending_id != null && row !== undefined) return { request: toJoinRequest(row), created: false };
  if (d?.enrollment == null) throw new ApiError("NOT_FOUND", "No such organization.");
  if (row?.id !== id) {
    if (d.enrollment === "auto" && d.seat_ok !== 1) {
      throw new ApiError("SEAT_LIMIT_REACHED", "This organization has no seat left; ask an admin to make room.");
    }
    throw new ApiError("CONFLICT", "Your membership changed meanwhile; try again.");
  }
  return { request: toJoinRequest(row), created: true };
}
