import { z } from "zod";

/**
 * Messages on the events queue: only the event id. Everything else is read from the stored row
 * when the message is handled, so a redelivered or stale message can never send outdated data,
 * and the row's status decides whether anything is sent at all.
 */
export interface EventMessage {
  eventId: string;
}

export const eventMessageSchema = z.strictObject({
  eventId: z.string().min(1).max(255),
}) satisfies z.ZodType<EventMessage>;

/** The queues of outbound events: keep in step with wrangler.toml. */
export const EVENTS_QUEUE_NAME = "roster-events";
export const EVENTS_DEAD_LETTER_QUEUE_NAME = "roster-events-dlq";

/** Queues take at most 100 messages per sendBatch. */
export const SEND_BATCH_MAX = 100;

/** Sends event ids to the events queue, in chunks sendBatch accepts. */
export async function enqueueEvents(queue: Queue<EventMessage>, eventIds: readonly string[]): Promise<void> {
  for (let i = 0; i < eventIds.length; i += SEND_BATCH_MAX) {
    await queue.sendBatch(eventIds.slice(i, i + SEND_BATCH_MAX).map((eventId) => ({ body: { eventId } })));
  }
}
