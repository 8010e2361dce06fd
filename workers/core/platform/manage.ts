import { auditRowsStatement } from "../audit";
import { type Config, days } from "../config";
import { changes, type Db } from "../db";
import { ApiError } from "../errors";
import { newId } from "../ids";
import { isPlatformAdmin } from "../platform-admins";
import { fixedWindow, HOUR_MS, rateCountSql, rateCountStatement, rateCounts, rateLimited } from "../rate-limit";
import { prepare, sql } from "../sql";
import { generateToken, sha256Hex } from "../tokens";
import { enqueuePlatformEmails, type PlatformQueue } from "./enqueue";
import {
  PLATFORM_INVITATION_COLUMNS,
  PLATFORM_INVITATION_FROM,
  type PlatformInvitation,
  type PlatformInvitationRow,
  toPlatformInvitation,
  visibleSql,
} from "./views";

/** The invitation as its inviter or an operator sees it, else 404: the read both transitions end with. */
function readVisible(db: Db, config: Config, userId: string, id: string): D1PreparedStatement {
  return prepare(
    db,
    sql`SELECT ${PLATFORM_INVITATION_COLUMNS}, p.token_version FROM ${PLATFORM_INVITATION_FROM}
        WHERE p.id = ${id} AND ${visibleSql(isPlatformAdmin(config, userId), userId)}`,
  );
}

/**
 * `POST /v1/platform/invitations/{id}/resend`: a new token (the old one is dead: only the new hash
 * is stored), a new expiry, delivery queued again — one guarded UPDATE and the read, one round
 * trip; the email after the commit. A pending invitation past its expiry may be resent; an
 * accepted, revoked or expired-by-the-job one is refused.
 */
export async function resendPlatformInvitation(
  db: Db,
  config: Config,
  queue: PlatformQueue,
  input: { userId: string; id: string; now: number },
): Promise<PlatformInvitation> {
  const { userId, id, now } = input;
  const token = generateToken();
  const hash = await sha256Hex(token);
  // A resend is an email sent: it counts in the inviter's hourly window, as for invites.
  const rate = fixedWindow(`platform-invite:user:${userId}`, config.RATE_LIMIT_INVITES_PER_HOUR, HOUR_MS, now);
  // Checked before the increment below: room for one more.
  const guard = sql`${rateCountSql(rate.key, rate.windowStart)} < ${rate.limit}`;
  const [update, , read, count] = await db.batch([
    prepare(
      db,
      sql`UPDATE platform_invitations AS p SET token_hash = ${hash}, token_version = token_version + 1,
            expires_at = ${now + days(config.INVITE_TTL_DAYS)}, updated_at = ${now}, delivery_status = 'queued',
            delivery_attempts = 0, delivery_error = NULL, delivery_sent_at = NULL
          WHERE p.id = ${id} AND p.status = 'pending' AND ${visibleSql(isPlatformAdmin(config, userId), userId)}
            AND ${guard}`,
    ),
    prepare(
      db,
      sql`INSERT INTO rate_limits (key, window_start, count)
          SELECT ${rate.key}, ${rate.windowStart}, 1
          WHERE EXISTS (SELECT 1 FROM platform_invitations WHERE id = ${id} AND token_hash = ${hash})
          ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1`,
    ),
    readVisible(db, config, userId, id),
    rateCountStatement(db, [rate]),
  ]);
  const row = read?.results[0] as (PlatformInvitationRow & { token_version: number }) | undefined;
  if (row === undefined) throw new ApiError("NOT_FOUND", "No such invitation.");
  if (changes(update as D1Result) === 0) {
    const used = rateCounts(count?.results as { key: string; count: number }[] | undefined).get(rate.key) ?? 0;
    if (row.status === "pending" && used >= rate.limit) throw rateLimited(rate, now);
    throw refusal(row.status);
  }
  const invitation = toPlatformInvitation(row, now);
  const failed = await enqueuePlatformEmails(db, queue, [
    { type: "platform_invitation", invitationId: id, tokenVersion: row.token_version, token },
  ]);
  if (failed.size > 0) invitation.delivery = { ...invitation.delivery, status: "failed", lastError: "enqueue failed" };
  return invitation;
}

/**
 * `DELETE /v1/platform/invitations/{id}`: the invitation is kept as `revoked` (soft), with its
 * `platform_invitation.revoked` event, in one round trip. Revoking a revoked or expired one again
 * changes nothing (204); an accepted one cannot be revoked (409).
 */
export async function revokePlatformInvitation(
  db: Db,
  config: Config,
  input: { userId: string; id: string; now: number },
): Promise<void> {
  const { userId, id, now } = input;
  const visible = visibleSql(isPlatformAdmin(config, userId), userId);
  const [audit, , read] = await db.batch([
    auditRowsStatement(db, [
      {
        action: "platform_invitation.revoked",
        targetType: "platform_invitation",
        id: newId("auditEvent"),
        organizationId: null,
        actorId: userId,
        targetId: sql`p.id`,
        data: sql`json_object('email', p.email)`,
        at: now,
        from: sql`FROM platform_invitations p WHERE p.id = ${id} AND p.status = 'pending' AND ${visible}`,
      },
    ]),
    prepare(
      db,
      sql`UPDATE platform_invitations AS p SET status = 'revoked', updated_at = ${now}
          WHERE p.id = ${id} AND p.status = 'pending' AND ${visible}`,
    ),
    readVisible(db, config, userId, id),
  ]);
  const row = read?.results[0] as PlatformInvitationRow | undefined;
  if (row === undefined) throw new ApiError("NOT_FOUND", "No such invitation.");
  if ((audit?.results.length ?? 0) === 0 && row.status === "accepted") throw refusal(row.status);
}

function refusal(status: string): ApiError {
  switch (status) {
    case "accepted":
      return new ApiError("INVITE_ALREADY_ACCEPTED", "This invitation was already accepted.");
    case "revoked":
      return new ApiError("INVITE_REVOKED", "This invitation was revoked.");
    case "expired":
      return new ApiError("INVITE_EXPIRED", "This invitation expired; send a new one.");
    default:
      return new ApiError("CONFLICT", "The invitation changed meanwhile; try again.");
  }
}
