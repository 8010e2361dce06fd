import { clerkBackend } from "../core/clerk-api";
import { revokeStaleClerkInvitations } from "../core/clerk-invitations";
import type { Config } from "../core/config";
import { MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from "./deliver";
import { clerkRevokeMessageSchema, describeInvalidMessage } from "./messages";

/** Whether a queue message is a Clerk revocation (the rest of EMAIL_QUEUE is invitation emails). */
export function isClerkRevokeMessage(message: Message<unknown>): boolean {
  const body = message.body as { type?: unknown } | null;
  return typeof body === "object" && body !== null && body.type === "clerk_revoke";
}

/** Handles one `clerk_revoke` message: acks it once nothing stale is left, else retries with backoff. Never throws. */
export async function handleClerkRevoke(db: D1Database, config: Config, message: Message<unknown>): Promise<void> {
  const parsed = clerkRevokeMessageSchema.safeParse(message.body);
  if (!parsed.success) {
    console.error(`[clerk] message ${message.id}: malformed, dropped (${describeInvalidMessage(parsed.error)})`);
    message.ack();
    return;
  }
  const ref = { kind: parsed.data.kind, id: parsed.data.id };
  const label = `[clerk] revoke for ${ref.kind} ${ref.id} (attempt ${message.attempts})`;
  const backoff = retryDelaySeconds(config.EMAIL_RETRY_BASE_SECONDS, message.attempts);
  try {
    // Without the key nothing can be revoked: retried, so fixing the configuration is enough.
    const outcome = await revokeStaleClerkInvitations(db, clerkBackend(config), ref, Date.now());
    if (outcome.kind === "done") {
      console.log(`${label}: ${outcome.revoked} Clerk invitation(s) revoked`);
      message.ack();
      return;
    }
    const delaySeconds = Math.min(Math.max(backoff, outcome.retryAfter ?? 0), MAX_RETRY_DELAY_SECONDS);
    console.warn(`${label}: ${outcome.reason}; retrying in ${delaySeconds}s`);
    message.retry({ delaySeconds });
  } catch (error) {
    console.error(`${label}: unexpected error, retrying in ${backoff}s:`, error);
    message.retry({ delaySeconds: backoff });
  }
}

/**
 * A revocation that failed every retry: the invitation stays live at Clerk until its own expiry
 * (expires_in_days = INVITE_TTL_DAYS). The hourly sweep queues it again while it is stale, so an
 * outage only delays it; this says so loudly.
 */
export function recordClerkRevokeDeadLetter(message: Message<unknown>): void {
  const parsed = clerkRevokeMessageSchema.safeParse(message.body);
  const what = parsed.success ? `${parsed.data.kind} ${parsed.data.id}` : `message ${message.id}`;
  console.error(`[clerk:dlq] revoke for ${what}: gave up after every retry; the hourly sweep will queue it again`);
  message.ack();
}
