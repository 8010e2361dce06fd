import { iso } from "../db";
import { ApiError } from "../errors";
import { inviterStillAllowed } from "../guards";
import { type SQL, sql } from "../sql";
import { sha256Hex } from "../tokens";
import { effectiveStatus, type InviteStatus } from "./views";

/**
 * The invitee's side, shared by accept and decline: how an invite is named, and why it may not be
 * taken (the diagnosis read in the same batch as the guarded write, and the error it names).
 */

/** How the invitee names an invite: the token from the email link, or its id (the banner). */
export type InviteKey = { token: string } | { id: string };

/** The condition on `i` that selects the invite named by `key`. */
export async function keyCondition(key: InviteKey): Promise<SQL> {
  return "token" in key ? sql`i.token_hash = ${await sha256Hex(key.token)}` : sql`i.id = ${key.id}`;
}

/** Seat limit for `userId`: no limit, already a member (takes no seat), or a seat left (over `i`, `o`). */
export function seatAvailable(userId: string): SQL {
  return sql`(o.max_members IS NULL
    OR EXISTS (SELECT 1 FROM organization_users m WHERE m.organization_id = i.organization_id AND m.user_id = ${userId})
    OR (SELECT count(*) FROM organization_users m WHERE m.organization_id = i.organization_id) < o.max_members)`;
}

/** A verified address of `userId` equals the invite's (`i`). */
export function verifiedMatch(userId: string): SQL {
  return sql`EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ${userId} AND ue.email = i.email AND ue.verified = 1)`;
}

/** Any address of `userId`, verified or not, equals the invite's (`i`). */
export function anyMatch(userId: string): SQL {
  return sql`EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ${userId} AND ue.email = i.email)`;
}

/** The caller's view of an invite at the start of their accept/decline batch: why it may fail. */
export interface InviteDiagnosis {
  id: string;
  status: InviteStatus;
  expires_at: number;
  verified_match: number;
  any_match: number;
  inviter_ok: number;
  seat_ok: number;
}

/** The diagnosis columns, over `FROM invites i JOIN organizations o`. */
export function diagnosisColumns(userId: string): SQL {
  return sql`${verifiedMatch(userId)} AS verified_match, ${anyMatch(userId)} AS any_match,
    ${inviterStillAllowed} AS inviter_ok, ${seatAvailable(userId)} AS seat_ok`;
}

/** Common refusals, in order: unknown/invisible, finished, expired, address. */
export function refusal(d: InviteDiagnosis | undefined, byId: boolean, now: number): ApiError | null {
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
