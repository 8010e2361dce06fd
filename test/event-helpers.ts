import { env } from "cloudflare:workers";
import { Webhook } from "svix";
import { expect, inject } from "vitest";
import { type QueueRun, runQueue } from "./email-helpers";
import type { ReceivedDelivery } from "./events-receiver";

/**
 * Helpers for the outbound events tests: the Worker's real events consumer driven the way Queues
 * drives it (cloudflare:test batches), POSTing to the real receiver of test/events-receiver.ts.
 */
export const WEBHOOK_SECRET = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;

/** Env vars pointing the Worker's events at a receiver hook (see events-receiver.ts for `query`). */
export function webhookVars(hook: string, query = "", extra: Record<string, string> = {}): Record<string, string> {
  return {
    EVENTS_WEBHOOK_URL: `${inject("eventsReceiverUrl")}/hook/${hook}${query}`,
    EVENTS_WEBHOOK_SECRET: WEBHOOK_SECRET,
    EVENTS_RETRY_BASE_SECONDS: "30",
    ...extra,
  };
}

/** Runs the events consumer on these event ids as one batch, each message at attempt `attempts`. */
export async function deliverEvents(
  eventIds: readonly string[],
  vars: Record<string, unknown>,
  attempts = 1,
): Promise<QueueRun[]> {
  return await runQueue(
    eventIds.map((eventId) => ({ body: { eventId }, attempts })),
    vars as Record<string, string>,
    "roster-events",
  );
}

export async function received(hook: string): Promise<ReceivedDelivery[]> {
  const response = await fetch(`${inject("eventsReceiverUrl")}/received?name=${hook}`);
  return (await response.json()) as ReceivedDelivery[];
}

/** Verifies a delivery's Standard Webhooks signature with svix (as a product's receiver does) and returns its event. */
export function verified(delivery: ReceivedDelivery): any {
  const event = new Webhook(WEBHOOK_SECRET).verify(delivery.body, {
    "webhook-id": delivery.headers["webhook-id"] ?? "",
    "webhook-timestamp": delivery.headers["webhook-timestamp"] ?? "",
    "webhook-signature": delivery.headers["webhook-signature"] ?? "",
  });
  expect(delivery.headers["webhook-id"]).toBe((event as { id: string }).id);
  return event;
}

export async function eventRow(eventId: string): Promise<any> {
  return await env.DB.prepare("SELECT * FROM events WHERE event_id = ?").bind(eventId).first();
}

/** The event ids of an organization's audit rows, in sequence order, with their types. */
export async function eventsOf(orgId: string): Promise<{ event_id: string; type: string; status: string }[]> {
  const { results } = await env.DB.prepare(
    `SELECT e.event_id, e.type, e.status FROM events e JOIN audit_events a ON a.id = e.event_id
     WHERE a.organization_id = ? ORDER BY e.sequence`,
  )
    .bind(orgId)
    .all<{ event_id: string; type: string; status: string }>();
  return results;
}
