import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Append-only record of every membership and invite change. No foreign keys: history outlives the
 * rows it describes. Every row is also an outbound event: a trigger (migration 0008) writes its
 * `events` row in the same statement.
 */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    /** NULL for platform events, which belong to no organization. */
    organizationId: text("organization_id"),
    /** NULL for system actions (expiry, Clerk user deletion). */
    actorId: text("actor_id"),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    /** JSON object. */
    data: text("data").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("audit_events_org_created").on(t.organizationId, t.createdAt, t.id)],
);

/** Clerk webhook deliveries already applied, by `svix-id` (deduplication; purged after a window). */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    svixId: text("svix_id").primaryKey(),
    eventType: text("event_type").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [index("webhook_events_received").on(t.receivedAt)],
);
