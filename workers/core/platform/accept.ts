import { auditRowsStatement } from "../audit";
import type { Config } from "../config";
import type { Db } from "../db";
import { ApiError } from "../errors";
import { newId } from "../ids";
import {
  assertNotOver,
  type RateWindow,
  rateCountSql,
  rateCounts,
  rateGuard,
  rateIncrementStatement,
} from "../rate-limit";
import { prepare, sql } from "../sql";
import { sha256Hex } from "../tokens";
import { admitStatements, gatedBatch } from "./gate";

export interface PlatformAcceptResult {
  user: { id: string; access: "active" | "waitlisted"; referredBy: string | null };
}

/**
 * `POST /v1/platform/invitations/accept`: one batch, one round trip. The guarded UPDATE goes first
 * (pending, unexpired, a verified caller address equal to the invitation's) and stamps this
 * request's nonce; everything after keys on (invitation, nonce): the admission (the cap guard
 * fails the whole batch: 409 SIGNUP_CAP_REACHED, nothing changed), `referred_by` set once, the
 * `platform_invitation.accepted` event (after referred_by, so it carries the final value), then
 * the read that answers or names the refusal.
 */
export async function acceptPlatformInvitation(
  db: Db,
  config: Config,
  input: { token: string; userId: string; now: number; rate: RateWindow },
): Promise<PlatformAcceptResult> {
  const { userId, now, rate } = input;
  const hash = await sha256Hex(input.token);
  const nonce = crypto.randomUUID();
  const guard = rateGuard([rate]);
  const mine = sql`EXISTS (SELECT 1 FROM platform_invitations p WHERE p.token_hash = ${hash} AND p.accept_nonce = ${nonce})`;
  const results = await gatedBatch(db, [
    rateIncrementStatement(db, rate, 1),
    prepare(
      db,
      sql`UPDATE platform_invitations SET status = 'accepted', accepted_by = ${userId}, accepted_at = ${now},
            updated_at = ${now}, accept_nonce = ${nonce}
          WHERE token_hash = ${hash} AND status = 'pending' AND expires_at > ${now}
            AND EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ${userId} AND ue.verified = 1
                        AND ue.email = platform_invitations.email)
            AND ${guard}`,
    ),
    ...admitStatements(db, config, {
      userId,
      now,
      actorId: userId,
      via: "platform_invitation",
      when: mine,
    }),
    prepare(
      db,
      sql`UPDATE admins SET referred_by = (SELECT p.invited_by FROM platform_invitations p WHERE p.token_hash = ${hash})
          WHERE id = ${userId} AND referred_by IS NULL AND ${mine}`,
    ),
    auditRowsStatement(db, [
      {
        action: "platform_invitation.accepted",
        targetType: "platform_invitation",
        id: newId("auditEvent"),
        organizationId: null,
        actorId: userId,
        targetId: sql`p.id`,
        data: sql`json_object('invitationId', p.id, 'userId', a.id, 'invitedBy', p.invited_by,
                              'referredBy', a.referred_by, 'source', p.source)`,
        at: now,
        from: sql`FROM platform_invitations p JOIN admins a ON a.id = ${userId}
                  WHERE p.token_hash = ${hash} AND p.accept_nonce = ${nonce}`,
      },
    ]),
    prepare(
      db,
      sql`SELECT p.id, p.status, p.expires_at, coalesce(p.accept_nonce = x.nonce, 0) AS mine,
                 EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ${userId} AND ue.email = p.email AND ue.verified = 1) AS verified_match,
                 EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = ${userId} AND ue.email = p.email) AS any_match,
                 a.access, a.referred_by,
                 ${rateCountSql(rate.key, rate.windowStart)} AS rate_count
          FROM (SELECT ${nonce} AS nonce) x
          LEFT JOIN platform_invitations p ON p.token_hash = ${hash}
          LEFT JOIN admins a ON a.id = ${userId}`,
    ),
  ]);
  const view = results.at(-1)?.results[0] as
    | {
        id: string | null;
        status: string | null;
        expires_at: number | null;
        mine: number;
        verified_match: number;
        any_match: number;
        access: "active" | "waitlisted" | null;
        referred_by: string | null;
        rate_count: number | null;
      }
    | undefined;
  if (view?.mine === 1 && view.access !== null) {
    return { user: { id: userId, access: view.access, referredBy: view.referred_by } };
  }
  assertNotOver([rate], rateCounts([{ key: rate.key, count: view?.rate_count ?? 0 }]), now);
  if (view?.id == null) throw new ApiError("INVITE_NOT_FOUND", "No such invitation.");
  if (view.status === "accepted")
    throw new ApiError("INVITE_ALREADY_ACCEPTED", "This invitation was already accepted.");
  if (view.status === "revoked") throw new ApiError("INVITE_REVOKED", "This invitation was revoked.");
  if (view.status === "expired" || (view.expires_at ?? 0) <= now) {
    throw new ApiError("INVITE_EXPIRED", `This invitation expired on ${new Date(view.expires_at ?? 0).toISOString()}.`);
  }
  if (view.verified_match === 0) {
    throw view.any_match === 1
      ? new ApiError("EMAIL_NOT_VERIFIED", "Verify this email address in your account, then accept again.")
      : new ApiError("INVITE_EMAIL_MISMATCH", "This invitation was sent to another email address.");
  }
  throw new ApiError("CONFLICT", "The invitation changed meanwhile; try again.");
}
