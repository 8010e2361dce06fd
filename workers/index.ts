import { handleFetch } from "./api/router";
import type { EventMessage } from "./core/events/messages";
import { handleScheduled } from "./cron-expiry";
import { type EmailMessage, handleQueue } from "./email-consumer";
import { handleEventsQueue, isEventsQueue } from "./events-consumer";

/**
 * The Worker: the API (fetch), the email and events consumers (queue), and the expiry and event
 * sweep jobs (scheduled).
 */
export default {
  fetch: handleFetch,
  queue: (batch, env, ctx) =>
    isEventsQueue(batch.queue)
      ? handleEventsQueue(batch as MessageBatch<EventMessage>, env, ctx)
      : handleQueue(batch as MessageBatch<EmailMessage>, env, ctx),
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, EmailMessage | EventMessage>;
