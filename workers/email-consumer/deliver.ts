import type { emailDeliveries, invites } from "../../schema";
import { type Config, inviteLink } from "../core/config";
import type { Db } from "../core/db";
import { MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from "../core/retry";
import { prepare, sql } from "../core/sql";
import { sha256Hex } from "../core/tokens";
import { displayEmailSql } from "../core/users";
import { describeInvalidMessage, emailMessageSchema, type InviteEmailMessage } from "./messages";
import { deliverNotification } from "./notifications";
import { recordPermanentFailure, recordSentStatements, recordTransientFailure } from "./outcomes";
import { deliverPlatformInvitation } from "./platform";
import { DeliveryError, type EmailProvider, type OutgoingEmail, parseMailbox } from "./providers";
import { renderInvitation } from "./template";
import { renderMembershipOffer } from "./template-notifications";

/**
 * Sending one invitation email, idempotently per (invite, token version).
 *
 * 1. One round trip (a batch): claim the (invite, version) in `email_deliveries` — only if the
 *    invite is still pending, unexpired, at this token version and with this token's hash, and
 *    nobody sent it or holds a live claim — count the attempt if we won, and read everything the
 *    email says (invite, organization, project, inviter, delivery state).
 * 2. Send through the provider.
 * 3. One round trip (outcomes.ts): record the outcome (sent; a transient error, releasing the
 *    claim for the retry; or a permanent failure, audited).
 *
 * The crash window: if the Worker dies after the provider accepted the message and before step 3,
 * the claim stays 'sending' until its lease ends, then a redelivery sends again. We chose a
 * possible duplicate over a possibly lost invitation (claiming 'sent' before sending would lose
 * it instead). Resend closes the window itself (the Idempotency-Key is the same for every send
 * of a version); over SMTP the Message-ID is the same, so mail clients that deduplicate by it
 * show one.
 */

/** How long a claim is held: longer than the slowest send (SMTP: connect plus six replies, each
 * bounded by SEND_TIMEOUT_MS), so a live sender is never overtaken. */
export const CLAIM_LEASE_MS = 5 * 60_000;

export { MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from "../core/retry";

type InviteRecord = typeof invites.$inferSelect;
type DeliveryRecord = typeof emailDeliveries.$inferSelect;

/** The invite as the claim batch reads it: columns typed from the schema, plus the names the email shows. */
export interface InviteRow {
  id: InviteRecord["id"];
  organization_id: InviteRecord["organizationId"];
  email: InviteRecord["email"];
  role: InviteRecord["role"];
  project_role: InviteRecord["projectRole"];
  status: InviteRecord["status"];
  token_hash: InviteRecord["tokenHash"];
  token_version: InviteRecord["tokenVersion"];
  expires_at: InviteRecord["expiresAt"];
  source: InviteRecord["source"];
  organization_name: string;
  project_name: string | null;
  inviter_name: string | null;
  inviter_email: string | null;
  delivery_attempts: InviteRecord["deliveryAttempts"];
  delivery_state: DeliveryRecord["state"] | null;
  claim_id: DeliveryRecord["claimId"] | null;
  lease_until: DeliveryRecord["leaseUntil"] | null;
}

export interface DeliveryContext {
  db: Db;
  config: Config;
  provider: EmailProvider;
}

/** Handles one message of EMAIL_QUEUE: acks it or schedules its retry, never throws. */
export async function deliverMessage(ctx: DeliveryContext, message: Message<unknown>): Promise<void> {
  const parsed = emailMessageSchema.safeParse(message.body);
  if (!parsed.success) {
    console.error(`[email] message ${message.id}: malformed, dropped (${describeInvalidMessage(parsed.error)})`);
    message.ack();
    return;
  }
  if (parsed.data.type === "notification") return await deliverNotification(ctx, message, parsed.data);
  if (parsed.data.type === "platform_invitation") return await deliverPlatformInvitation(ctx, message, parsed.data);
  const body = parsed.data;
  const label = `[email] invite ${body.inviteId} v${body.tokenVersion} (attempt ${message.attempts})`;
  try {
    const outcome = await deliver(ctx, body);
    switch (outcome.kind) {
      case "sent":
        console.log(`${label}: sent via ${ctx.provider.name}`);
        message.ack();
        return;
      case "dropped":
        console.log(`${label}: dropped, ${outcome.reason}`);
        message.ack();
        return;
      case "busy":
        // Another delivery of this message holds a live claim: look again when it ends.
        console.log(`${label}: another delivery is sending it, checking again in ${outcome.delaySeconds}s`);
        message.retry({ delaySeconds: outcome.delaySeconds });
        return;
      case "failed":
        console.error(`${label}: failed permanently, ${outcome.reason}`);
        message.ack();
        return;
      case "retry": {
        const delaySeconds = Math.min(
          Math.max(retryDelaySeconds(ctx.config.EMAIL_RETRY_BASE_SECONDS, message.attempts), outcome.retryAfter ?? 0),
          MAX_RETRY_DELAY_SECONDS,
        );
        console.warn(`${label}: ${outcome.reason}; retrying in ${delaySeconds}s`);
        message.retry({ delaySeconds });
        return;
      }
    }
  } catch (error) {
    // D1 unavailable, a bug: retry with backoff rather than lose the message.
    const delaySeconds = retryDelaySeconds(ctx.config.EMAIL_RETRY_BASE_SECONDS, message.attempts);
    console.error(`${label}: unexpected error, retrying in ${delaySeconds}s:`, error);
    message.retry({ delaySeconds });
  }
}

type Outcome =
  | { kind: "sent" }
  | { kind: "dropped"; reason: string }
  | { kind: "busy"; delaySeconds: number }
  | { kind: "failed"; reason: string }
  | { kind: "retry"; reason: string; retryAfter: number | null };

async function deliver(ctx: DeliveryContext, body: InviteEmailMessage): Promise<Outcome> {
  const { db } = ctx;
  const now = Date.now();
  const claimId = crypto.randomUUID();
  const tokenHash = await sha256Hex(body.token);

  const [, , read] = await db.batch([
    // The claim: inserted, or taken over from a holder whose lease ended. Guarded by everything
    // that makes the message still worth sending; 'sent' and 'failed' rows are never overwritten.
    db
      .prepare(
        `INSERT INTO email_deliveries (invite_id, token_version, state, claim_id, lease_until, created_at, updated_at)
         SELECT id, token_version, 'sending', ?, ?, ?, ? FROM invites
         WHERE id = ? AND token_version = ? AND token_hash = ? AND status = 'pending' AND expires_at > ?
         ON CONFLICT (invite_id, token_version) DO UPDATE
           SET claim_id = excluded.claim_id, lease_until = excluded.lease_until, updated_at = excluded.updated_at
           WHERE email_deliveries.state = 'sending' AND email_deliveries.lease_until <= excluded.updated_at`,
      )
      .bind(claimId, now + CLAIM_LEASE_MS, now, now, body.inviteId, body.tokenVersion, tokenHash, now),
    // Counts the attempt only if the claim above is ours.
    db
      .prepare(
        `UPDATE invites SET delivery_attempts = delivery_attempts + 1
         WHERE id = ? AND EXISTS (SELECT 1 FROM email_deliveries d
           WHERE d.invite_id = ? AND d.token_version = ? AND d.claim_id = ? AND d.state = 'sending')`,
      )
      .bind(body.inviteId, body.inviteId, body.tokenVersion, claimId),
    prepare(
      db,
      sql`SELECT i.id, i.organization_id, i.email, i.role, i.project_role, i.status, i.token_hash, i.token_version,
                 i.expires_at, i.source, i.delivery_attempts, o.name AS organization_name, p.name AS project_name,
                 a.name AS inviter_name, ${displayEmailSql("a")} AS inviter_email,
                 d.state AS delivery_state, d.claim_id, d.lease_until
          FROM invites i
          JOIN organizations o ON o.id = i.organization_id
          LEFT JOIN projects p ON p.id = i.project_id
          LEFT JOIN admins a ON a.id = i.invited_by
          LEFT JOIN email_deliveries d ON d.invite_id = i.id AND d.token_version = ${body.tokenVersion}
          WHERE i.id = ${body.inviteId}`,
    ),
  ]);
  const invite = (read?.results[0] as InviteRow | undefined) ?? null;

  if (invite === null) return { kind: "dropped", reason: "the invite no longer exists" };
  if (invite.claim_id !== claimId || invite.delivery_state !== "sending") {
    const reason = whyNotSending(invite, body, tokenHash, now);
    if (reason !== null) return { kind: "dropped", reason };
    const leaseLeft = Math.ceil(((invite.lease_until ?? now) - now) / 1000);
    return { kind: "busy", delaySeconds: Math.max(1, Math.min(leaseLeft, MAX_RETRY_DELAY_SECONDS)) };
  }

  let email: OutgoingEmail;
  let providerMessageId: string | null;
  try {
    email = compose(ctx.config, invite, body);
    ({ providerMessageId } = await ctx.provider.send(email));
  } catch (error) {
    const failure =
      error instanceof DeliveryError
        ? error
        : new DeliveryError("transient", error instanceof Error ? error.message : String(error));
    if (failure.kind === "permanent") {
      await recordPermanentFailure(db, invite, body, failure.message, Date.now());
      return { kind: "failed", reason: failure.message };
    }
    await recordTransientFailure(db, body, claimId, failure.message, Date.now());
    return { kind: "retry", reason: failure.message, retryAfter: failure.retryAfterSeconds };
  }

  // With Clerk as the sender, the provider's id is the Clerk invitation to revoke later.
  const clerkInvitationId = ctx.provider.name === "clerk" ? providerMessageId : null;
  const record = recordSentStatements(db, body, providerMessageId, clerkInvitationId, Date.now());
  try {
    await db.batch(record);
  } catch {
    // Sent but not recorded: one more try before leaving it to the lease (see the crash window).
    await db.batch(record);
  }
  return { kind: "sent" };
}

/** Why a message we could not claim is not worth sending; null when another delivery holds it. */
function whyNotSending(invite: InviteRow, body: InviteEmailMessage, tokenHash: string, now: number): string | null {
  if (invite.token_version !== body.tokenVersion) {
    return `outdated token version (the invite is at v${invite.token_version})`;
  }
  if (invite.token_hash !== tokenHash) return "the token does not match the invite";
  if (invite.status !== "pending") return `the invite is ${invite.status}`;
  if (invite.expires_at <= now) return "the invite has expired";
  if (invite.delivery_state === "sent") return "already sent (a redelivered message)";
  if (invite.delivery_state === "failed") return "its delivery already failed";
  if (invite.delivery_state === null) return "the invite could not be claimed";
  return null;
}

function compose(config: Config, invite: InviteRow, body: InviteEmailMessage): OutgoingEmail {
  const from = parseMailbox(config.EMAIL_FROM);
  // A consent-pending offer (first sent as the invite.created notification) that an admin resent:
  // the same offer again, without the token link — they accept signed in.
  const rendered =
    invite.source === "owner_add"
      ? renderMembershipOffer({
          email: invite.email,
          organizationName: invite.organization_name,
          role: invite.role,
          inviterName: invite.inviter_name,
          inviterEmail: invite.inviter_email,
          expiresAt: invite.expires_at,
          appUrl: config.APP_URL,
          productName: "Roster",
        })
      : renderInvitation({
          email: invite.email,
          organizationName: invite.organization_name,
          projectName: invite.project_name,
          role: invite.role,
          projectRole: invite.project_role,
          inviterName: invite.inviter_name,
          inviterEmail: invite.inviter_email,
          expiresAt: invite.expires_at,
          link: inviteLink(config, body.token),
        });
  const domain = from.email.slice(from.email.lastIndexOf("@") + 1);
  const key = `invite-${invite.id}-v${invite.token_version}`;
  return {
    ...rendered,
    from,
    messageId: `<${key}@${domain}>`,
    idempotencyKey: key,
    about: { kind: "invite", id: invite.id },
  };
}
