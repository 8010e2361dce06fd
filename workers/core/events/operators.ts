import type { Config } from "../config";
import { all, type Db } from "../db";
import { ApiError } from "../errors";
import { decodeCursor, type Page, toPage } from "../pagination";
import { requirePlatformAdmin } from "../platform-admins";
import { prepare, sql } from "../sql";
import {
  type DeliveryStatus,
  EVENT_COLUMNS,
  EVENTS_WITH_FACTS,
  type EventRow,
  type EventWithDelivery,
  toEventWithDelivery,
} from "./event";

/** The operators' view of the outbox: GET /v1/platform/events and POST …/{id}/redeliver. */
export interface EventQuery {
  after?: number | undefined;
  type?: string | undefined;
  delivery?: DeliveryStatus | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * Events in `sequence` order, after `after` (and after the cursor, which is the last sequence of
 * the previous page), optionally of one type and one delivery status. One round trip.
 */
export async function listEvents(
  db: Db,
  config: Config,
  userId: string,
  query: EventQuery,
): Promise<Page<EventWithDelivery>> {
  requirePlatformAdmin(config, userId);
  const cursor = decodeCursor(query.cursor);
  if (cursor !== null && typeof cursor[0] !== "number") {
    throw new ApiError("VALIDATION_FAILED", "The cursor is not valid.", {
      errors: [{ path: "cursor", message: "Invalid cursor" }],
    });
  }
  const after = Math.max(query.after ?? 0, (cursor?.[0] as number | undefined) ?? 0);
  const ofType = query.type === undefined ? sql`` : sql`AND e.type = ${query.type}`;
  const ofStatus = query.delivery === undefined ? sql`` : sql`AND e.status = ${query.delivery}`;
  const rows = await all<EventRow>(
    prepare(
      db,
      sql`SELECT ${EVENT_COLUMNS} FROM ${EVENTS_WITH_FACTS}
          WHERE e.sequence > ${after} ${ofType} ${ofStatus}
          ORDER BY e.sequence LIMIT ${query.limit + 1}`,
    ),
  );
  return toPage(rows, query.limit, (r) => [r.sequence, r.event_id], toEventWithDelivery);
}

/**
 * Puts an event back to `pending`, due now, whatever its status (a failed event once the receiver
 * is fixed; a sent one the receiver lost). `attempts` keeps counting. The UPDATE returns the id
 * under the outbox's hand-off names, so the request's hand-off enqueues it like a new event; if
 * that send is lost the sweep sends it. One round trip.
 */
export async function redeliverEvent(
  db: Db,
  config: Config,
  input: { userId: string; eventId: string; now: number },
): Promise<void> {
  requirePlatformAdmin(config, input.userId);
  if (config.EVENTS_WEBHOOK_URL === undefined) {
    throw new ApiError("EVENTS_DISABLED", "EVENTS_WEBHOOK_URL is not set: there is nowhere to deliver events to.");
  }
  const updated = await prepare(
    db,
    sql`UPDATE events SET status = 'pending', next_attempt_at = ${input.now}, claim_id = NULL, lease_until = 0,
               updated_at = ${input.now}
        WHERE event_id = ${input.eventId} RETURNING event_id AS outbox_event_id, type AS outbox_event_type`,
  ).all();
  if (updated.results.length === 0) throw new ApiError("NOT_FOUND", "No such event.");
}
