import type { Db } from "../db";
import type { EmailMessage, PlatformInvitationEmailMessage } from "../email-messages";
import { prepare, sql } from "../sql";

export type PlatformQueue = Pick<Queue<EmailMessage>, "sendBatch">;

/**
 * Queues platform invitation emails after the batch that stored their hashes committed (the raw
 * token travels only in the message). A failed send marks those token versions' delivery
 * `failed` ("enqueue failed") for the inviter to see and resend; returns the ids that failed.
 */
export async function enqueuePlatformEmails(
  db: Db,
  queue: PlatformQueue,
  messages: PlatformInvitationEmailMessage[],
): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  try {
    // At most 50 addresses per request: one sendBatch call (the limit is 100).
    await queue.sendBatch(messages.map((body) => ({ body, contentType: "json" as const })));
    return new Set();
  } catch (error) {
    console.error(
      JSON.stringify({
        event: "platform_invitation.enqueue_failed",
        invitationIds: messages.map((m) => m.invitationId),
        error: error instanceof Error ? error.name : "unknown",
      }),
    );
    const sent = JSON.stringify(messages.map((m) => ({ id: m.invitationId, v: m.tokenVersion })));
    await prepare(
      db,
      sql`UPDATE platform_invitations SET delivery_status = 'failed', delivery_error = 'enqueue failed'
          WHERE EXISTS (SELECT 1 FROM json_each(${sent}) j
                        WHERE j.value ->> 'id' = platform_invitations.id AND j.value ->> 'v' = platform_invitations.token_version)`,
    ).run();
    return new Set(messages.map((m) => m.invitationId));
  }
}
