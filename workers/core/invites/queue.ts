import type { Db } from "../db";
import type { EmailMessage, InviteEmailMessage } from "../email-messages";
import { prepare, sql } from "../sql";
import type { Invite } from "./views";

/** The producer side of EMAIL_QUEUE (a test can pass a spy). */
export type InviteQueue = Pick<Queue<EmailMessage>, "sendBatch">;

/** Queues.sendBatch takes at most 100 messages per call. */
const QUEUE_BATCH_MAX = 100;

/**
 * Queues the invite emails (after the batch that stored the hashes has committed), at most 100
 * per sendBatch call. When a call throws, those invites' delivery becomes `failed` ("enqueue
 * failed") so that an admin sees it and resends; the request itself still succeeds. Returns the
 * ids that failed. The log line names invite ids only, never a token.
 */
export async function enqueueInviteEmails(
  db: Db,
  queue: InviteQueue,
  messages: InviteEmailMessage[],
): Promise<Set<string>> {
  const failed: InviteEmailMessage[] = [];
  for (let start = 0; start < messages.length; start += QUEUE_BATCH_MAX) {
    const chunk = messages.slice(start, start + QUEUE_BATCH_MAX);
    try {
      await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" as const })));
    } catch (error) {
      failed.push(...chunk);
      console.error(
        JSON.stringify({
          event: "invite.enqueue_failed",
          inviteIds: chunk.map((m) => m.inviteId),
          error: error instanceof Error ? error.name : "unknown",
        }),
      );
    }
  }
  if (failed.length > 0) {
    // Only the token version that failed: a later resend's delivery state is not overwritten.
    const versions = JSON.stringify(failed.map((m) => ({ id: m.inviteId, v: m.tokenVersion })));
    await prepare(
      db,
      sql`UPDATE invites SET delivery_status = 'failed', delivery_error = 'enqueue failed'
          WHERE EXISTS (SELECT 1 FROM json_each(${versions}) j
                        WHERE j.value ->> 'id' = invites.id AND j.value ->> 'v' = invites.token_version)`,
    ).run();
  }
  return new Set(failed.map((m) => m.inviteId));
}

/** The answer's view of an invite whose email could not be queued. */
export function markDeliveryFailed(invite: Invite): void {
  invite.delivery = { status: "failed", attempts: invite.delivery.attempts, lastError: "enqueue failed", sentAt: null };
}
