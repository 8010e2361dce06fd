import { auditRowsStatement } from "../audit";
import type { Db } from "../db";
import { ApiError } from "../errors";
import { newId } from "../ids";
import { prepare, sql } from "../sql";
import {
  JOIN_REQUEST_COLUMNS,
  JOIN_REQUEST_FROM,
  type JoinRequest,
  type JoinRequestRow,
  matchingDomain,
  seatAvailable,
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
  const isMember = sql`EXISTS (SELECT 1 FROM organization_users WHERE organization_id = ${orgId} AND user_id = ${userId})`;
  const pendingId = sql`(SELECT id FROM join_requests WHERE organization_id = ${orgId} AND user_id = ${userId}
    AND status = 'pending')`;
  const seat = seatAvailable(orgId, userId);
  const matching = matchingDomain(orgId, userId);
  const approved = sql`(SELECT r.organization_id, r.user_id, r.role, r.id, r.domain FROM join_requests r
    WHERE r.id = ${id} AND r.status = 'approved') a`;
  const results = await db.batch([
    prepare(
      db,
      sql`SELECT ${isMember} AS member, ${pendingId} AS pending_id,
                 (SELECT enrollment FROM (${matching})) AS enrollment, ${seat} AS seat_ok`,
    ),
    prepare(
      db,
      sql`INSERT INTO join_requests (id, organization_id, user_id, status, role, message, domain, created_at,
                                     updated_at, decided_at)
          SELECT ${id}, ${orgId}, ${userId}, CASE m.enrollment WHEN 'auto' THEN 'approved' ELSE 'pending' END,
                 CASE m.enrollment WHEN 'auto' THEN 'member' END, ${input.message}, m.domain, ${now}, ${now},
                 CASE m.enrollment WHEN 'auto' THEN ${now} END
          FROM (${matching}) m
          WHERE NOT ${isMember} AND ${pendingId} IS NULL AND (m.enrollment <> 'auto' OR ${seat})
          ON CONFLICT DO NOTHING`,
    ),
    // One statement, in order: created (always), then for `auto` the approval (actor: none, the
    // domain's policy decided) and member.added.
    auditRowsStatement(db, [
      {
        action: "join_request.created",
        targetType: "join_request",
        id: newId("auditEvent"),
        organizationId: sql`r.organization_id`,
        actorId: sql`r.user_id`,
        targetId: sql`r.id`,
        data: sql`json_object('userId', r.user_id, 'domain', r.domain, 'message', r.message)`,
        at: now,
        from: sql`FROM join_requests r WHERE r.id = ${id}`,
      },
      {
        action: "join_request.approved",
        targetType: "join_request",
        id: newId("auditEvent"),
        organizationId: sql`a.organization_id`,
        actorId: null,
        targetId: sql`a.id`,
        data: sql`json_object('userId', a.user_id, 'role', a.role, 'enrollment', 'auto', 'domain', a.domain)`,
        at: now,
        from: sql`FROM ${approved}`,
      },
      {
        action: "member.added",
        targetType: "member",
        id: newId("auditEvent"),
        organizationId: sql`a.organization_id`,
        actorId: sql`a.user_id`,
        targetId: sql`a.user_id`,
        data: sql`json_object('role', a.role, 'joinRequestId', a.id)`,
        at: now,
        from: sql`FROM ${approved}`,
      },
    ]),
    prepare(
      db,
      sql`INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
          SELECT a.organization_id, a.user_id, a.role, ${now}, ${now} FROM ${approved}
          WHERE true -- (a WHERE keeps SQLite from reading ON CONFLICT as a join constraint)
          ON CONFLICT DO NOTHING`,
    ),
    prepare(
      db,
      sql`SELECT ${JOIN_REQUEST_COLUMNS} FROM ${JOIN_REQUEST_FROM}
          WHERE r.id = ${id} OR r.id = ${pendingId} ORDER BY r.id = ${id} DESC LIMIT 1`,
    ),
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
