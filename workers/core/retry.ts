/** Longest retry delay. Queues accept up to 12 hours; an hour keeps a flaky receiver's messages moving. */
export const MAX_RETRY_DELAY_SECONDS = 3_600;

/** `base`, doubling with each attempt made (message.attempts starts at 1), capped: the queue consumers' backoff. */
export function retryDelaySeconds(baseSeconds: number, attempts: number): number {
  return Math.min(baseSeconds * 2 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_SECONDS);
}
