import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { admins } from "./users";

/**
 * Invitations to the product itself (migration 0010), independent of organizations. Invariants:
 * at most one pending invitation per canonical address; only the SHA-256 of the token is stored;
 * a revoked invitation is kept (`revoked`), never deleted before the purge.
 */
export const platformInvitations = sqliteTable(
  "platform_invitations",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    tokenVersion: integer("token_version").notNull().default(1),
    invitedBy: text("invited_by").references(() => admins.id, { onDelete: "set null" }),
    source: text("source", { enum: ["operator", "referral"] }).notNull(),
    status: text("status", { enum: ["pending", "accepted", "revoked", "expired"] })
      .notNull()
      .default("pending"),
    acceptedBy: text("accepted_by").references(() => admins.id, { onDelete: "set null" }),
    acceptedAt: integer("accepted_at"),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deliveryStatus: text("delivery_status", { enum: ["queued", "sent", "failed"] })
      .notNull()
      .default("queued"),
    deliveryAttempts: integer("delivery_attempts").notNull().default(0),
    deliveryError: text("delivery_error"),
    deliverySentAt: integer("delivery_sent_at"),
    /** Stamped by the accepting request: the rest of its batch keys on (invitation, nonce). */
    acceptNonce: text("accept_nonce"),
  },
  (t) => [
    uniqueIndex("platform_invitations_one_pending").on(t.email).where(sql`${t.status} = 'pending'`),
    index("platform_invitations_inviter").on(t.invitedBy, t.status, t.createdAt, t.id),
    index("platform_invitations_status").on(t.status, t.createdAt, t.id),
    index("platform_invitations_status_expires").on(t.status, t.expiresAt),
    index("platform_invitations_status_updated").on(t.status, t.updatedAt),
  ],
);

/** The email consumer's idempotency record for platform invitations, as `email_deliveries` is for invites. */
export const platformEmailDeliveries = sqliteTable(
  "platform_email_deliveries",
  {
    invitationId: text("invitation_id")
      .notNull()
      .references(() => platformInvitations.id, { onDelete: "cascade" }),
    tokenVersion: integer("token_version").notNull(),
    state: text("state", { enum: ["sending", "sent", "failed"] }).notNull(),
    claimId: text("claim_id").notNull(),
    leaseUntil: integer("lease_until").notNull(),
    providerMessageId: text("provider_message_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.invitationId, t.tokenVersion] })],
);
