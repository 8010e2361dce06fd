import { type Config, platformInviteLink } from "../core/config";
import type { Db } from "../core/db";
import { MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from "../core/retry";
import { prepare, sql } from "../core/sql";
import { sha256Hex } from "../core/tokens";
import { displayEmailSql } from "../core/users";
import type { DeliveryContext } from "./deliver";
import { CLAIM_LEASE_MS } from "./deliver";
import type { PlatformInvitationEmailMessage } from "./messages";
import { renderPlatformInvitation } from "./platform-template";
import { DeliveryError, type OutgoingEmail, parseMailbox } from "./providers";

/**
 * Sending a platform invitation email, idempotently per (invitation, token version), exactly as
 * invites are sent (deliver.ts): claim the version in `platform_email_deliveries` only while the
 * invitation is pending, unexpired and at this token, send, record the outcome. A resend rotates
 * the token, so a message of an older version is dropped.
 */
interface Row {
  id: string;
  email: string;
  status: string;
  token_hash: string;
  token_version: number;
  expires_at: number;
  inviter_name: string | null;
  inviter_email: string | null;
  delivery_state: "sending" | "sent" | "failed" | null;
  claim_id: string | null;
  lease_until: number | null;
}

export async function deliverPlatformInvitation(
  ctx: DeliveryContext,
  message: Message<unknown>,
  body: PlatformInvitationEmailMessage,
): Promise<void> {
  const label = `[email] platform invitation ${body.invitationId} v${body.tokenVersion} (attempt ${message.attempts})`;
  const retry = (reason: string, retryAfter: number | null) => {
    const delaySeconds = Math.min(
      Math.max(retryDelaySeconds(ctx.config.EMAIL_RETRY_BASE_SECONDS, message.attempts), retryAfter ?? 0),
      MAX_RETRY_DELAY_SECONDS,
    );
    console.warn(`${label}: ${reason}; retrying in ${delaySeconds}s`);
    message.retry({ delaySeconds });
  };
  try {
    const { db } = ctx;
    const now = Date.now();
    const claimId = crypto.randomUUID();
    const tokenHash = await sha256Hex(body.token);
    const [, , read] = await db.batch([
      prepare(
        db,
        sql`INSERT INTO platform_email_deliveries (invitation_id, token_version, state, claim_id, lease_until, created_at, updated_at)
           SELECT id, token_version, 'sending', ${claimId}, ${now + CLAIM_LEASE_MS}, ${now}, ${now} FROM platform_invitations
           WHERE id = ${body.invitationId} AND token_version = ${body.tokenVersion} AND token_hash = ${tokenHash} AND status = 'pending' AND expires_at > ${now}
           ON CONFLICT (invitation_id, token_version) DO UPDATE
             SET claim_id = excluded.claim_id, lease_until = excluded.lease_until, updated_at = excluded.updated_at
             WHERE platform_email_deliveries.state = 'sending' AND platform_email_deliveries.lease_until <= excluded.updated_at`,
      ),
      prepare(
        db,
        sql`UPDATE platform_invitations SET delivery_attempts = delivery_attempts + 1
           WHERE id = ${body.invitationId} AND EXISTS (SELECT 1 FROM platform_email_deliveries d
             WHERE d.invitation_id = ${body.invitationId} AND d.token_version = ${body.tokenVersion} AND d.claim_id = ${claimId} AND d.state = 'sending')`,
      ),
      prepare(
        db,
        sql`SELECT p.id, p.email, p.status, p.token_hash, p.token_version, p.expires_at,
                  a.name AS inviter_name, ${displayEmailSql("a")} AS inviter_email, d.state AS delivery_state, d.claim_id, d.lease_until
           FROM platform_invitations p LEFT JOIN admins a ON a.id = p.invited_by
           LEFT JOIN platform_email_deliveries d ON d.invitation_id = p.id AND d.token_version = ${body.tokenVersion}
           WHERE p.id = ${body.invitationId}`,
      ),
    ]);
    const row = (read?.results[0] as Row | undefined) ?? null;
    if (row === null || row.claim_id !== claimId || row.delivery_state !== "sending") {
      const held = row !== null && row.delivery_state === "sending" && (row.lease_until ?? 0) > now;
      if (held && row.token_version === body.tokenVersion) {
        message.retry({ delaySeconds: Math.max(1, Math.ceil(((row.lease_until ?? now) - now) / 1000)) });
        return;
      }
      console.log(
        `${label}: dropped (${row === null ? "no such invitation" : `not sendable: ${row.status}, v${row.token_version}, ${row.delivery_state ?? "unclaimed"}`})`,
      );
      message.ack();
      return;
    }
    let providerMessageId: string | null;
    try {
      ({ providerMessageId } = await ctx.provider.send(compose(ctx.config, row, body)));
    } catch (error) {
      const failure =
        error instanceof DeliveryError
          ? error
          : new DeliveryError("transient", error instanceof Error ? error.message : String(error));
      await recordFailure(db, body, claimId, failure.message, failure.kind === "permanent", Date.now());
      if (failure.kind === "permanent") {
        console.error(`${label}: failed permanently, ${failure.message}`);
        message.ack();
      } else retry(failure.message, failure.retryAfterSeconds);
      return;
    }
    const at = Date.now();
    await db.batch([
      prepare(
        db,
        sql`UPDATE platform_invitations SET delivery_status = 'sent', delivery_sent_at = ${at}, delivery_error = NULL
           WHERE id = ${body.invitationId} AND token_version = ${body.tokenVersion}`,
      ),
      prepare(
        db,
        sql`UPDATE platform_email_deliveries SET state = 'sent', provider_message_id = ${providerMessageId}, updated_at = ${at}
           WHERE invitation_id = ${body.invitationId} AND token_version = ${body.tokenVersion} AND state = 'sending'`,
      ),
    ]);
    console.log(`${label}: sent via ${ctx.provider.name}`);
    message.ack();
  } catch (error) {
    retry(`unexpected error: ${error instanceof Error ? error.message : String(error)}`, null);
  }
}

function compose(config: Config, row: Row, body: PlatformInvitationEmailMessage): OutgoingEmail {
  const from = parseMailbox(config.EMAIL_FROM);
  const rendered = renderPlatformInvitation({
    email: row.email,
    productName: config.PRODUCT_NAME,
    inviterName: row.inviter_name,
    inviterEmail: row.inviter_email?.endsWith(".invalid") ? null : row.inviter_email,
    expiresAt: row.expires_at,
    link: platformInviteLink(config, body.token),
  });
  const domain = from.email.slice(from.email.lastIndexOf("@") + 1);
  const key = `platform-invitation-${row.id}-v${row.token_version}`;
  return { ...rendered, from, messageId: `<${key}@${domain}>`, idempotencyKey: key };
}

/** A transient failure keeps the error and releases the claim; a permanent one is final. */
async function recordFailure(
  db: Db,
  body: PlatformInvitationEmailMessage,
  claimId: string,
  reason: string,
  permanent: boolean,
  now: number,
): Promise<void> {
  await db.batch([
    prepare(
      db,
      sql`UPDATE platform_invitations SET delivery_error = ${reason}, delivery_status = CASE WHEN ${permanent ? 1 : 0} = 1 THEN 'failed' ELSE delivery_status END
         WHERE id = ${body.invitationId} AND token_version = ${body.tokenVersion}`,
    ),
    prepare(
      db,
      sql`UPDATE platform_email_deliveries SET state = CASE WHEN ${permanent ? 1 : 0} = 1 THEN 'failed' ELSE 'sending' END, lease_until = 0, updated_at = ${now}
         WHERE invitation_id = ${body.invitationId} AND token_version = ${body.tokenVersion} AND claim_id = ${claimId} AND state = 'sending'`,
    ),
  ]);
}

/** Dead-lettered (every retry failed): the delivery becomes failed, once. */
export async function recordPlatformDeadLetter(db: Db, body: PlatformInvitationEmailMessage): Promise<void> {
  const now = Date.now();
  await db.batch([
    prepare(
      db,
      sql`UPDATE platform_invitations SET delivery_status = 'failed',
           delivery_error = 'Gave up after ' || delivery_attempts || ' attempt(s): ' || COALESCE(delivery_error, 'no error recorded')
         WHERE id = ${body.invitationId} AND token_version = ${body.tokenVersion} AND delivery_status <> 'sent'`,
    ),
    prepare(
      db,
      sql`UPDATE platform_email_deliveries SET state = 'failed', lease_until = 0, updated_at = ${now}
         WHERE invitation_id = ${body.invitationId} AND token_version = ${body.tokenVersion} AND state = 'sending'`,
    ),
  ]);
}
