import type { invites } from "../../../schema";
import { iso, isoOrNull } from "../db";
import { maskEmail } from "../email";
import type { OrgRole, ProjectRole } from "../roles";
import { type SQL, sql } from "../sql";
import { displayEmailSql } from "../users";

type InviteRecord = typeof invites.$inferSelect;

/** Invite rows as SQL returns them, and their API views (API.md's `Invite` and `ReceivedInvite`). */
export type InviteStatus = (typeof invites.$inferSelect)["status"];
export const INVITE_STATUSES = [
  "pending",
  "accepted",
  "declined",
  "revoked",
  "expired",
] as const satisfies readonly InviteStatus[];
/** `owner_add`: an existing user added by id, pending their consent (add-member.ts). */
export type InviteSource = InviteRecord["source"];
export const INVITE_SOURCES = ["email", "owner_add"] as const satisfies readonly InviteSource[];

/** An invite as the API's reads return it: snake_case columns typed from the schema, plus the inviter's name. */
export interface InviteRow {
  id: InviteRecord["id"];
  organization_id: InviteRecord["organizationId"];
  project_id: InviteRecord["projectId"];
  email: InviteRecord["email"];
  role: InviteRecord["role"];
  project_role: InviteRecord["projectRole"];
  status: InviteRecord["status"];
  token_version: InviteRecord["tokenVersion"];
  invited_by: InviteRecord["invitedBy"];
  inviter_name: string | null;
  created_at: InviteRecord["createdAt"];
  expires_at: InviteRecord["expiresAt"];
  accepted_at: InviteRecord["acceptedAt"];
  updated_at: InviteRecord["updatedAt"];
  delivery_status: InviteRecord["deliveryStatus"];
  delivery_attempts: InviteRecord["deliveryAttempts"];
  delivery_error: InviteRecord["deliveryError"];
  delivery_sent_at: InviteRecord["deliverySentAt"];
  source: InviteRecord["source"];
}

/** The columns of `InviteRow`, for `FROM invites i LEFT JOIN admins inviter ON inviter.id = i.invited_by`. */
export const INVITE_COLUMNS = `i.id, i.organization_id, i.project_id, i.email, i.role, i.project_role, i.status,
  i.token_version, i.invited_by, inviter.name AS inviter_name, i.created_at, i.expires_at, i.accepted_at,
  i.updated_at, i.delivery_status, i.delivery_attempts, i.delivery_error, i.delivery_sent_at, i.source`;
export const INVITE_FROM = "invites i LEFT JOIN admins inviter ON inviter.id = i.invited_by";

/**
 * The status as the API reports it: a pending invite past its expiry is expired, whether or not
 * the hourly cron has marked it yet (expiry is enforced at read and accept time, not only by cron).
 */
export function effectiveStatus(row: { status: InviteStatus; expires_at: number }, now: number): InviteStatus {
  return row.status === "pending" && row.expires_at <= now ? "expired" : row.status;
}

export interface Invite {
  id: string;
  kind: "organization" | "project";
  organizationId: string;
  projectId: string | null;
  email: string;
  role: OrgRole;
  projectRole: ProjectRole | null;
  status: InviteStatus;
  source: InviteSource;
  /** `userId` is null once the inviting user has been deleted. */
  invitedBy: { userId: string | null; name: string | null };
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  delivery: { status: "queued" | "sent" | "failed"; attempts: number; lastError: string | null; sentAt: string | null };
}

export function toInvite(row: InviteRow, now: number): Invite {
  return {
    id: row.id,
    kind: row.project_id === null ? "organization" : "project",
    organizationId: row.organization_id,
    projectId: row.project_id,
    email: row.email,
    role: row.role,
    projectRole: row.project_role,
    status: effectiveStatus(row, now),
    source: row.source,
    invitedBy: { userId: row.invited_by, name: row.inviter_name },
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    acceptedAt: isoOrNull(row.accepted_at),
    delivery: {
      status: row.delivery_status,
      attempts: row.delivery_attempts,
      lastError: row.delivery_error,
      sentAt: isoOrNull(row.delivery_sent_at),
    },
  };
}

/**
 * How the invitee is told who invited them, the one rule the accept page, the banner and the
 * email share: the inviter's name (on one line), else the address others see (users.ts
 * `displayEmailSql`: their primary verified address); null when neither
 * is known (a deleted inviter), where each says something generic.
 */
export function inviterLabel(name: string | null, verifiedEmail: string | null): string | null {
  const oneLine = (value: string | null) =>
    (value ?? "")
      .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ")
      .replace(/\s+/g, " ")
      .trim();
  return oneLine(name) || oneLine(verifiedEmail) || null;
}

/** An invite with the names the invitee sees (organization, project, inviter). */
export interface ReceivedInviteRow {
  id: string;
  organization_id: string;
  organization_name: string;
  project_id: string | null;
  project_name: string | null;
  email: string;
  role: OrgRole;
  project_role: ProjectRole | null;
  status: InviteStatus;
  inviter_name: string | null;
  inviter_email: string | null;
  expires_at: number;
  source: InviteSource;
}

export const RECEIVED_INVITE_COLUMNS: SQL = sql`i.id, i.organization_id, o.name AS organization_name, i.project_id,
  p.name AS project_name, i.email, i.role, i.project_role, i.status, inviter.name AS inviter_name,
  ${displayEmailSql("inviter")} AS inviter_email, i.expires_at, i.source`;
export const RECEIVED_INVITE_FROM = `invites i
  JOIN organizations o ON o.id = i.organization_id
  LEFT JOIN projects p ON p.id = i.project_id
  LEFT JOIN admins inviter ON inviter.id = i.invited_by`;

export interface ReceivedInvite {
  id: string;
  kind: "organization" | "project";
  source: InviteSource;
  organization: { id: string; name: string };
  project: { id: string; name: string } | null;
  role: OrgRole;
  projectRole: ProjectRole | null;
  invitedBy: { name: string | null };
  expiresAt: string;
}

export function toReceivedInvite(row: ReceivedInviteRow): ReceivedInvite {
  return {
    id: row.id,
    kind: row.project_id === null ? "organization" : "project",
    source: row.source,
    organization: { id: row.organization_id, name: row.organization_name },
    project: row.project_id === null ? null : { id: row.project_id, name: row.project_name ?? "" },
    role: row.role,
    projectRole: row.project_role,
    invitedBy: { name: inviterLabel(row.inviter_name, row.inviter_email) },
    expiresAt: iso(row.expires_at),
  };
}

/** What the accept page shows to whoever holds the token, before sign-in. */
export interface InvitePreview {
  organization: { name: string };
  project: { name: string } | null;
  role: OrgRole;
  projectRole: ProjectRole | null;
  invitedBy: { name: string | null };
  emailHint: string;
  expiresAt: string;
  status: InviteStatus;
}

export function toInvitePreview(row: ReceivedInviteRow, now: number): InvitePreview {
  return {
    organization: { name: row.organization_name },
    project: row.project_id === null ? null : { name: row.project_name ?? "" },
    role: row.role,
    projectRole: row.project_role,
    invitedBy: { name: inviterLabel(row.inviter_name, row.inviter_email) },
    emailHint: maskEmail(row.email),
    expiresAt: iso(row.expires_at),
    status: effectiveStatus(row, now),
  };
}
