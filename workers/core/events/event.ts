import { iso } from "../db";
import { sql } from "../sql";

/**
 * An audit row as an outbound event (API.md's `Event`): the body POSTed to EVENTS_WEBHOOK_URL and
 * what GET /v1/platform/events lists. Built from one SELECT joining `events` (sequence, delivery)
 * to `audit_events` (the facts).
 */
export interface Event {
  id: string;
  sequence: number;
  type: string;
  organizationId: string | null;
  actor: { userId: string } | null;
  target: { type: string; id: string };
  data: Record<string, unknown>;
  createdAt: string;
}

export type DeliveryStatus = "pending" | "sent" | "failed" | "disabled";

export interface EventWithDelivery extends Event {
  delivery: { status: DeliveryStatus; attempts: number; lastError: string | null };
}

export interface EventRow {
  sequence: number;
  event_id: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  organization_id: string | null;
  actor_id: string | null;
  target_type: string;
  target_id: string;
  data: string;
  created_at: number;
}

/** The columns of an `EventRow`, read `FROM ${EVENTS_WITH_FACTS}`. */
export const EVENT_COLUMNS = sql`e.sequence, e.event_id, e.type, e.status, e.attempts, e.last_error,
  a.organization_id, a.actor_id, a.target_type, a.target_id, a.data, a.created_at`;

/** An event's delivery state (`e`) beside the audit row it announces (`a`). */
export const EVENTS_WITH_FACTS = sql`events e JOIN audit_events a ON a.id = e.event_id`;

// The audit log names a membership's subject by the kind of membership; the event contract names
// the user it is about (API.md: member events target {type: "user", id: userId}).
const TARGET_TYPES: Record<string, string> = { member: "user", project_member: "user" };

export function toEvent(row: EventRow): Event {
  let data: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(row.data);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) data = parsed;
  } catch {
    // The column is CHECKed json_valid; an unparsable value cannot be stored.
  }
  return {
    id: row.event_id,
    sequence: row.sequence,
    type: row.type,
    organizationId: row.organization_id,
    actor: row.actor_id === null ? null : { userId: row.actor_id },
    target: { type: TARGET_TYPES[row.target_type] ?? row.target_type, id: row.target_id },
    data,
    createdAt: iso(row.created_at),
  };
}

export function toEventWithDelivery(row: EventRow): EventWithDelivery {
  return {
    ...toEvent(row),
    delivery: { status: row.status, attempts: row.attempts, lastError: row.last_error },
  };
}
