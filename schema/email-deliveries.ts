import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
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
    /** EMAIL_PROVIDER=clerk: the Clerk invitation this version's delivery created. */
    clerkInvitationId: text("clerk_invitation_id"),
    /** When Clerk revoked it (or had nothing left to revoke); null while it is live. */
    clerkRevokedAt: integer("clerk_revoked_at"),
  },
  (t) => [
    primaryKey({ columns: [t.inviteId, t.tokenVersion] }),
    index("email_deliveries_clerk_live")
      .on(t.inviteId)
      .where(sql`clerk_invitation_id IS NOT NULL AND clerk_revoked_at IS NULL`),
  ],
);
