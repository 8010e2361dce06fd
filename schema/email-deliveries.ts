import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { invites } from "./invites";

/**
 * The email consumer's idempotency record: one row per (invite, token version), the unit sent at
 * most once. Invariants: a 'sending' row is a claim held by `claim_id` until `lease_until` (ms);
 * 'sent' and 'failed' are final and never overwritten; rows go with their invite (cascade), so
 * the expiry job's purge of finished invites takes them too.
 */
export const emailDeliveries = sqliteTable(
  "email_deliveries",
  {
    inviteId: text("invite_id")
      .notNull()
      .references(() => invites.id, { onDelete: "cascade" }),
    tokenVersion: integer("token_version").notNull(),
    state: text("state", { enum: ["sending", "sent", "failed"] }).notNull(),
    claimId: text("claim_id").notNull(),
    leaseUntil: integer("lease_until").notNull(),
    /** The provider's id for the sent message, when it gives one (Resend). */
    providerMessageId: text("provider_message_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.inviteId, t.tokenVersion] })],
);
