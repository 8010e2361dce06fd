import { iso, isoOrNull } from "../db";
import { type SQL, sql } from "../sql";

export type PlatformInvitationStatus = "pending" | "accepted" | "revoked" | "expired";

export interface PlatformInvitationRow {
  id: string;
  email: string;
  status: PlatformInvitationStatus;
  source: "operator" | "referral";
  invited_by: string | null;
  inviter_name: string | null;
  created_at: number;
  expires_at: number;
  accepted_at: number | null;
  accepted_by: string | null;
  delivery_status: "queued" | "sent" | "failed";
  delivery_attempts: number;
  delivery_error: string | null;
  delivery_sent_at: number | null;
}

/** The columns of a PlatformInvitationRow, over `platform_invitations p LEFT JOIN admins inviter`. */
export const PLATFORM_INVITATION_COLUMNS =
  sql.raw(`p.id, p.email, p.status, p.source, p.invited_by, inviter.name AS inviter_name,
  p.created_at, p.expires_at, p.accepted_at, p.accepted_by, p.delivery_status, p.delivery_attempts,
  p.delivery_error, p.delivery_sent_at`);
export const PLATFORM_INVITATION_FROM = sql.raw(
  "platform_invitations p LEFT JOIN admins inviter ON inviter.id = p.invited_by",
);

export interface PlatformInvitation {
  id: string;
  email: string;
  status: PlatformInvitationStatus;
  source: "operator" | "referral";
  invitedBy: { userId: string | null; name: string | null };
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedBy: string | null;
  delivery: { status: "queued" | "sent" | "failed"; attempts: number; lastError: string | null; sentAt: string | null };
}

/** A pending invitation past its expiry is expired, whether or not the hourly job has marked it. */
export function effectivePlatformStatus(
  row: { status: PlatformInvitationStatus; expires_at: number },
  now: number,
): PlatformInvitationStatus {
  return row.status === "pending" && row.expires_at <= now ? "expired" : row.status;
}

export function toPlatformInvitation(row: PlatformInvitationRow, now: number): PlatformInvitation {
  return {
    id: row.id,
    email: row.email,
    status: effectivePlatformStatus(row, now),
    source: row.source,
    invitedBy: { userId: row.invited_by, name: row.inviter_name },
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    acceptedAt: isoOrNull(row.accepted_at),
    acceptedBy: row.accepted_by,
    delivery: {
      status: row.delivery_status,
      attempts: row.delivery_attempts,
      lastError: row.delivery_error,
      sentAt: isoOrNull(row.delivery_sent_at),
    },
  };
}

/** SQL over `p`: the caller may see and manage the invitation — its inviter, or an operator. */
export function visibleSql(isOperator: boolean, userId: string): SQL {
  return isOperator ? sql`1` : sql`p.invited_by = ${userId}`;
}
