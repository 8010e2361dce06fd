import { iso, isoOrNull } from "../db";
import type { OrgRole } from "../roles";
import { type SQL, sql } from "../sql";

/** Join request rows as SQL returns them, and API.md's `JoinRequest`. */
export type JoinRequestStatus = "pending" | "approved" | "denied" | "withdrawn";
export const JOIN_REQUEST_STATUSES = ["pending", "approved", "denied", "withdrawn"] as const;

export interface JoinRequestRow {
  id: string;
  organization_id: string;
  organization_name: string;
  user_id: string;
  user_email: string | null;
  user_name: string | null;
  status: JoinRequestStatus;
  role: OrgRole | null;
  message: string | null;
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
}

/**
 * The columns of `JoinRequestRow` for `JOIN_REQUEST_FROM`. The requester's address is a verified
 * one at the request's domain when they still have it (what the admin judges the request by),
 * else their primary verified one.
 */
export const JOIN_REQUEST_COLUMNS = sql`r.id, r.organization_id, o.name AS organization_name, r.user_id,
  COALESCE(
    (SELECT min(ue.email) FROM user_emails ue WHERE ue.user_id = r.user_id AND ue.verified = 1
       AND substr(ue.email, instr(ue.email, '@') + 1) = r.domain),
    (SELECT ue.email FROM user_emails ue WHERE ue.user_id = r.user_id AND ue.verified = 1
     ORDER BY ue.is_primary DESC, ue.email LIMIT 1)) AS user_email,
  u.name AS user_name, r.status, r.role, r.message, r.created_at, r.decided_at, r.decided_by`;
export const JOIN_REQUEST_FROM = sql`join_requests r
  JOIN organizations o ON o.id = r.organization_id
  LEFT JOIN admins u ON u.id = r.user_id`;

export interface JoinRequest {
  id: string;
  organization: { id: string; name: string };
  user: { userId: string; email: string | null; name: string | null };
  status: JoinRequestStatus;
  role: OrgRole | null;
  message: string | null;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
}

export function toJoinRequest(row: JoinRequestRow): JoinRequest {
  return {
    id: row.id,
    organization: { id: row.organization_id, name: row.organization_name },
    user: { userId: row.user_id, email: row.user_email, name: row.user_name },
    status: row.status,
    role: row.role,
    message: row.message,
    createdAt: iso(row.created_at),
    decidedAt: isoOrNull(row.decided_at),
    decidedBy: row.decided_by,
  };
}

/**
 * A seat is left in organization `org` for user `user` (values, or column expressions): no limit,
 * already a member (takes no seat), or fewer members than the limit.
 */
export function seatAvailable(org: SQL | string, user: SQL | string): SQL {
  return sql`(SELECT o2.max_members IS NULL
     OR EXISTS (SELECT 1 FROM organization_users m WHERE m.organization_id = o2.id AND m.user_id = ${user})
     OR (SELECT count(*) FROM organization_users m WHERE m.organization_id = o2.id) < o2.max_members
   FROM organizations o2 WHERE o2.id = ${org})`;
}

/**
 * The claimed domain of organization `orgId` at which user `userId` holds a verified address (an
 * `auto` one first), as a one-row subquery with `domain` and `enrollment`; no row when the
 * organization is not suggested to the user.
 */
export function matchingDomain(orgId: string, userId: string): SQL {
  return sql`SELECT d.domain, d.enrollment FROM organization_domains d
    JOIN user_emails ue ON ue.user_id = ${userId} AND ue.verified = 1
      AND substr(ue.email, instr(ue.email, '@') + 1) = d.domain
    WHERE d.organization_id = ${orgId} ORDER BY d.enrollment = 'auto' DESC, d.domain LIMIT 1`;
}
