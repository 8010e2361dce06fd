import { handleFetch } from "./api/router";
import { handleScheduled } from "./cron-expiry";
import { type EmailMessage, handleQueue } from "./email-consumer";

/** The Worker: the API (fetch), the email consumer (queue) and the expiry job (scheduled). */
export default {
  fetch: handleFetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, EmailMessage>;
