import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The outbox: the delivery state of every audit row as an outbound event. Invariants: one row per
 * audit row, written by the `audit_events_outbox` trigger in the audit row's own statement (never
 * by application code); `sequence` strictly increases in commit order and is never reused;
 * `attempts` counts every POST, redeliveries included; 'sent' is final (a redelivered queue
 * message sends nothing); only an operator's redeliver moves 'failed' or 'disabled' back to
 * 'pending'.
 */
export const events = sqliteTable(
  "events",
  {
    sequence: integer("sequence").primaryKey({ autoIncrement: true }),
    /** The audit row's id. */
    eventId: text("event_id").notNull().unique(),
    /** The audit action. */
    type: text("type").notNull(),
    status: text("status", { enum: ["pending", "sent", "failed", "disabled"] })
      .notNull()
      .default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /** When the event is next due (ms); the sweep re-enqueues pending events overdue by its grace. */
    nextAttemptAt: integer("next_attempt_at").notNull(),
    /** The consumer invocation POSTing it, until `lease_until` (ms). */
    claimId: text("claim_id"),
    leaseUntil: integer("lease_until").notNull().default(0),
    /** Set once its notification email (if its type has one) was handed to EMAIL_QUEUE. */
    notifiedAt: integer("notified_at"),
    sentAt: integer("sent_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("events_type_sequence").on(t.type, t.sequence),
    index("events_status_sequence").on(t.status, t.sequence),
    index("events_pending_due").on(t.nextAttemptAt).where(sql`status = 'pending'`),
  ],
);

/**
 * Notification emails, at most one per event: the email consumer claims the row ('sending', with
 * a lease) before sending, then records 'sent' or 'failed' (final, never overwritten).
 */
export const notificationDeliveries = sqliteTable("notification_deliveries", {
  eventId: text("event_id").primaryKey(),
  state: text("state", { enum: ["sending", "sent", "failed"] }).notNull(),
  claimId: text("claim_id").notNull(),
  leaseUntil: integer("lease_until").notNull(),
  attempts: integer("attempts").notNull().default(0),
  lastError: text("last_error"),
  providerMessageId: text("provider_message_id"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
