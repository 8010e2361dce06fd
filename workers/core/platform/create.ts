import { auditRowsStatement } from "../audit";
import type { Config } from "../config";
import { days } from "../config";
import type { Db } from "../db";
import { ApiError } from "../errors";
import { newId } from "../ids";
import { isPlatformAdmin } from "../platform-admins";
import { fixedWindow, HOUR_MS, rateCountSql, rateLimited } from "../rate-limit";
import { prepare, sql } from "../sql";
import { generateToken, sha256Hex } from "../tokens";
import { enqueuePlatformEmails, type PlatformQueue } from "./enqueue";
import { quotaUsedSql } from "./quota";
import {
  PLATFORM_INVITATION_COLUMNS,
  type PlatformInvitation,
  type PlatformInvitationRow,
  toPlatformInvitation,
} from "./views";

export interface PlatformCreateResult {
  email: string;
  outcome: "invited" | "already_invited" | "already_user";
  invitation: PlatformInvitation | null;
}

const QUOTA_MARK = "roster-invite-quota-exceeded";
const RATE_MARK = "roster-platform-invite-rate";

/** SQL over `j` (json_each of addresses): the address is a verified address of an active user. */
const ALREADY_USER_SQL = sql`EXISTS (SELECT 1 FROM user_emails ue JOIN admins a ON a.id = ue.user_id
  WHERE ue.email = j.value ->> 'email' AND ue.verified = 1 AND a.access = 'active')`;

/** SQL over `j`: the address has a pending, unexpired invitation. */
const alreadyPendingSql = (now: number) => sql`EXISTS (SELECT 1 FROM platform_invitations x
  WHERE x.email = j.value ->> 'email' AND x.status = 'pending' AND x.expires_at > ${now})`;

/**
 * `POST /v1/platform/invitations`: one batch, one round trip. Addresses are canonical and
 * deduplicated by the route. In order:
 * 1. pending invitations of these addresses past their expiry become `expired` (they free their
 *    address and their inviter's place);
 * 2. for a non-operator, the quota guard: fails the batch (403 INVITE_QUOTA_EXCEEDED, nothing
 *    created) when the new invitations this request would create exceed what remains — counted
 *    in the same transaction as the inserts, so concurrent requests cannot exceed the quota;
 * 3. the inserts (not for an address already pending or of an active user; the unique index on
 *    pending addresses settles a concurrent identical request), 4. their audit events, 5. the read
 *    that classifies every address. The emails are queued after the commit.
 */
export async function createPlatformInvitations(
  db: Db,
  config: Config,
  queue: PlatformQueue,
  input: { userId: string; emails: string[]; now: number },
): Promise<PlatformCreateResult[]> {
  const { userId, now } = input;
  const operator = isPlatformAdmin(config, userId);
  // Without a quota only operators invite. Decided after the batch, so the sign-up gate in its
  // round trip answers a waitlisted caller first (with a quota of 0 the guard creates nothing).
  const forbidden = !operator && config.PLATFORM_INVITES_PER_USER === 0;
  const refuse = () => new ApiError("FORBIDDEN", "Platform invitations are open to operators only.");
  const expiresAt = now + days(config.INVITE_TTL_DAYS);
  const rate = fixedWindow(`platform-invite:user:${userId}`, config.RATE_LIMIT_INVITES_PER_HOUR, HOUR_MS, now);
  const fresh = await Promise.all(
    input.emails.map(async (email) => {
      const token = generateToken();
      return {
        email,
        id: newId("platformInvitation"),
        token,
        hash: await sha256Hex(token),
        eventId: newId("auditEvent"),
      };
    }),
  );
  const items = JSON.stringify(fresh.map(({ email, id, hash, eventId }) => ({ email, id, hash, eventId })));
  const isNew = sql`NOT ${alreadyPendingSql(now)} AND NOT ${ALREADY_USER_SQL}`;
  // The request's addresses that would become new invitations.
  const newAddresses = sql`(SELECT count(*) FROM json_each(${items}) j WHERE ${isNew})`;
  const statements = [
    prepare(
      db,
      sql`UPDATE platform_invitations SET status = 'expired', updated_at = ${now}
          WHERE status = 'pending' AND expires_at <= ${now}
            AND email IN (SELECT j.value ->> 'email' FROM json_each(${items}) j)`,
    ),
    // Emails sent per inviter per hour (RATE_LIMIT_INVITES_PER_HOUR, as for invites): the guard
    // fails the batch (429) before anything is written; the counter grows by what was created.
    prepare(
      db,
      sql`SELECT json_extract('{}', ${sql.raw(`'${RATE_MARK} '`)} || n) AS gate FROM (SELECT ${newAddresses} AS n)
          WHERE n > 0 AND n + ${rateCountSql(rate.key, rate.windowStart)} > ${rate.limit}`,
    ),
    ...(operator
      ? []
      : [
          prepare(
            db,
            sql`SELECT json_extract('{}', ${sql.raw(`'${QUOTA_MARK} '`)} || n) AS gate FROM (SELECT ${newAddresses} AS n)
                WHERE n > 0 AND n + ${quotaUsedSql(userId, now)} > ${config.PLATFORM_INVITES_PER_USER}`,
          ),
        ]),
    prepare(
      db,
      sql`INSERT INTO platform_invitations (id, email, token_hash, invited_by, source, status, expires_at, created_at, updated_at)
          SELECT j.value ->> 'id', j.value ->> 'email', j.value ->> 'hash', ${userId}, ${operator ? "operator" : "referral"},
                 'pending', ${expiresAt}, ${now}, ${now}
          FROM json_each(${items}) j WHERE ${isNew}
          ON CONFLICT DO NOTHING`,
    ),
    auditRowsStatement(db, [
      {
        action: "platform_invitation.created",
        targetType: "platform_invitation",
        id: sql`j.value ->> 'eventId'`,
        organizationId: null,
        actorId: userId,
        targetId: sql`p.id`,
        data: sql`json_object('email', p.email, 'source', p.source)`,
        at: now,
        from: sql`FROM json_each(${items}) j JOIN platform_invitations p ON p.id = j.value ->> 'id'`,
      },
    ]),
    prepare(
      db,
      sql`INSERT INTO rate_limits (key, window_start, count)
          SELECT ${rate.key}, ${rate.windowStart}, count(*)
          FROM json_each(${items}) j JOIN platform_invitations p ON p.id = j.value ->> 'id' WHERE true
          ON CONFLICT (key, window_start) DO UPDATE SET count = count + excluded.count`,
    ),
    prepare(
      db,
      sql`SELECT j.value ->> 'email' AS requested,
                 p.id IN (SELECT o.value ->> 'id' FROM json_each(${items}) o) AS ours,
                 (${ALREADY_USER_SQL}) AS user_exists, ${PLATFORM_INVITATION_COLUMNS}
          FROM json_each(${items}) j
          LEFT JOIN platform_invitations p ON p.email = j.value ->> 'email' AND p.status = 'pending'
          LEFT JOIN admins inviter ON inviter.id = p.invited_by
          ORDER BY j.key`,
    ),
  ];
  let results: D1Result[];
  try {
    results = await db.batch(statements);
  } catch (error) {
    if (error instanceof Error && error.message.includes(RATE_MARK)) throw rateLimited(rate, now);
    if (forbidden && error instanceof Error && error.message.includes(QUOTA_MARK)) throw refuse();
    if (error instanceof Error && error.message.includes(QUOTA_MARK)) {
      throw new ApiError(
        "INVITE_QUOTA_EXCEEDED",
        `You may have at most ${config.PLATFORM_INVITES_PER_USER} platform invitations pending or accepted.`,
      );
    }
    throw error;
  }
  if (forbidden) throw refuse();
  const rows = (results.at(-1)?.results ?? []) as (PlatformInvitationRow & {
    requested: string;
    ours: number;
    user_exists: number;
  })[];
  const out: PlatformCreateResult[] = rows.map((row) => {
    if (row.ours === 1) return { email: row.requested, outcome: "invited", invitation: toPlatformInvitation(row, now) };
    if (row.id !== null && row.id !== undefined) {
      // Someone's pending invitation: shown to its inviter and to operators only.
      const visible = operator || row.invited_by === userId;
      return {
        email: row.requested,
        outcome: "already_invited",
        invitation: visible ? toPlatformInvitation(row, now) : null,
      };
    }
    return { email: row.requested, outcome: "already_user", invitation: null };
  });
  const created = new Set(out.filter((r) => r.outcome === "invited").map((r) => r.invitation?.id));
  const failed = await enqueuePlatformEmails(
    db,
    queue,
    fresh
      .filter((f) => created.has(f.id))
      .map((f) => ({ type: "platform_invitation", invitationId: f.id, tokenVersion: 1, token: f.token })),
  );
  for (const r of out) {
    if (r.invitation !== null && failed.has(r.invitation.id)) {
      r.invitation.delivery = { ...r.invitation.delivery, status: "failed", lastError: "enqueue failed" };
    }
  }
  return out;
}
