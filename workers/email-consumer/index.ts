import type { EmailMessage } from "./messages";

export type { EmailMessage } from "./messages";

/** Queue consumer for EMAIL_QUEUE and its dead-letter queue. (Delivery lands with the email issue.) */
export async function handleQueue(batch: MessageBatch<EmailMessage>, _env: Env, _ctx: ExecutionContext): Promise<void> {
  for (const message of batch.messages) message.ack();
}
