import { type Config, getConfig } from "../core/config";
import { EVENTS_DEAD_LETTER_QUEUE_NAME, EVENTS_QUEUE_NAME, type EventMessage } from "../core/events/messages";
import { retryDelaySeconds } from "../core/retry";
import { deliverEventMessage, recordEventDeadLetter } from "./deliver";

/** Below Workers' 6 simultaneous open connections per invocation, leaving room for D1. */
const MAX_CONCURRENT_SENDS = 4;

/** EVENTS_RETRY_BASE_SECONDS's default, for when the configuration itself cannot be read. */
const DEFAULT_RETRY_BASE_SECONDS = 30;

/** Whether a queue is one of the events queues (the Worker's queue entry dispatches on it). */
export function isEventsQueue(queue: string): boolean {
  return queue === EVENTS_QUEUE_NAME || queue === EVENTS_DEAD_LETTER_QUEUE_NAME;
}

/** Consumer of the events queue and its dead-letter queue. Every message is acked or retried on its own. */
export async function handleEventsQueue(
  batch: MessageBatch<EventMessage>,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  switch (batch.queue) {
    case EVENTS_QUEUE_NAME:
      return await deliverBatch(batch, env);
    case EVENTS_DEAD_LETTER_QUEUE_NAME:
      for (const message of batch.messages) await recordEventDeadLetter(env.DB, message);
      return;
    default:
      throw new Error(`No consumer for queue "${batch.queue}": wrangler.toml and workers/events-consumer disagree`);
  }
}

async function deliverBatch(batch: MessageBatch<EventMessage>, env: Env): Promise<void> {
  let config: Config;
  try {
    config = getConfig(env);
  } catch (error) {
    // Nothing can be signed without a configuration: say so loudly and retry; the events stay
    // pending (the sweep brings them back once it is fixed).
    console.error(`[events] cannot deliver: ${error instanceof Error ? error.message : String(error)}`);
    for (const message of batch.messages) {
      message.retry({ delaySeconds: retryDelaySeconds(DEFAULT_RETRY_BASE_SECONDS, message.attempts) });
    }
    return;
  }
  const ctx = { db: env.DB, config, emailQueue: env.EMAIL_QUEUE };
  let next = 0;
  const lanes = Array.from({ length: Math.min(MAX_CONCURRENT_SENDS, batch.messages.length) }, async () => {
    while (next < batch.messages.length) {
      const message = batch.messages[next++] as Message<EventMessage>;
      await deliverEventMessage(ctx, message);
    }
  });
  await Promise.all(lanes);
}
