import { type Config, ConfigError, getConfig } from "../core/config";
import { EventHandoff } from "../core/events/handoff";
import { handleClerkRevoke, isClerkRevokeMessage, recordClerkRevokeDeadLetter } from "./clerk-revoke";
import { deliverMessage, retryDelaySeconds } from "./deliver";
import { recordConfigurationError, recordDeadLetter } from "./failures";
import type { EmailMessage } from "./messages";
import { createProvider, DeliveryError, type EmailProvider, parseMailbox } from "./providers";

export type { EmailMessage } from "./messages";

/** The queues this Worker consumes: keep in step with wrangler.toml's [[queues.consumers]]. */
export const EMAIL_QUEUE_NAME = "roster-email";
export const EMAIL_DEAD_LETTER_QUEUE_NAME = "roster-email-dlq";

/**
 * Sends in parallel, but below Workers' 6 simultaneous open connections per invocation: each
 * send holds a socket (SMTP) or a fetch (Resend), and D1 calls need room too.
 */
const MAX_CONCURRENT_SENDS = 4;

/** EMAIL_RETRY_BASE_SECONDS's default, for when the configuration itself cannot be read. */
const DEFAULT_RETRY_BASE_SECONDS = 10;

/** Queue consumer for EMAIL_QUEUE and its dead-letter queue. Every message is acked or retried on its own. */
export async function handleQueue(batch: MessageBatch<EmailMessage>, env: Env, ctx: ExecutionContext): Promise<void> {
  // The audit rows it writes (`invite.delivery_failed`) are events: handed off after the batch.
  const handoff = EventHandoff.forEntry(env);
  const hooked = handoff.wrapEnv(env);
  try {
    switch (batch.queue) {
      case EMAIL_QUEUE_NAME:
        return await deliverBatch(batch, hooked);
      case EMAIL_DEAD_LETTER_QUEUE_NAME:
        for (const message of batch.messages) {
          if (isClerkRevokeMessage(message)) recordClerkRevokeDeadLetter(message);
          else await recordDeadLetter(hooked.DB, message);
        }
        return;
      default:
        throw new Error(`No consumer for queue "${batch.queue}": wrangler.toml and workers/email-consumer disagree`);
    }
  } finally {
    handoff.flush(ctx);
  }
}

async function deliverBatch(batch: MessageBatch<EmailMessage>, env: Env): Promise<void> {
  let config: Config;
  try {
    config = getConfig(env);
  } catch (error) {
    // Without a configuration no email can be built: say so loudly, keep the reason on the
    // invites, and retry (they end failed through the dead-letter queue if nobody fixes it).
    const reason = `Configuration invalid: ${error instanceof Error ? error.message : String(error)}`;
    console.error(`[email] cannot send: ${reason}`);
    try {
      await recordConfigurationError(env.DB, batch.messages, reason);
    } finally {
      for (const message of batch.messages) {
        message.retry({ delaySeconds: retryDelaySeconds(DEFAULT_RETRY_BASE_SECONDS, message.attempts) });
      }
    }
    return;
  }
  const provider = providerOrFailure(config, env);
  await forEachLimited(batch.messages, MAX_CONCURRENT_SENDS, (message) =>
    isClerkRevokeMessage(message)
      ? handleClerkRevoke(env.DB, config, message)
      : deliverMessage({ db: env.DB, config, provider }, message),
  );
}

/**
 * The configured provider, or — when its configuration is incomplete — one that fails every send
 * transiently with the reason: each invite records the error, retries, and ends `failed` through
 * the dead-letter queue if nobody fixes the configuration. Never a silent drop.
 */
function providerOrFailure(config: Config, env: Env): EmailProvider {
  try {
    parseMailbox(config.EMAIL_FROM);
    return createProvider(config, { EMAIL: env.EMAIL });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const reason = `Email provider misconfigured: ${error.message}`;
    console.error(`[email] ${reason}. Every message will be retried, then marked failed, until it is fixed.`);
    return {
      name: config.EMAIL_PROVIDER,
      async send() {
        throw new DeliveryError("transient", reason);
      },
    };
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(lanes);
}
