import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { organizations } from "./organizations";
import { projects } from "./projects";
import { admins } from "./users";

/**
 * Organization and project invites in one table. Invariants: at most one `pending` invite per
 * (email, organization, project) — a partial unique index; `project_role` is set exactly for
 * project invites; only `token_hash` (SHA-256) of the secret token is stored; `updated_at` is set
 * at every status change (the purge's retention counts from it).
 */
export const invites = sqliteTable(
  "invites",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    projectId: text("project_id").references(() => projects.id, { onDelete: "cascade" }),
    /** Canonical address: trimmed, NFC, lower-case. */
    email: text("email").notNull(),
    /** The organization role granted when the invitee is not yet a member. */
    role: text("role", { enum: ["owner", "director", "manager", "member", "guest"] })
      .notNull()
      .default("member"),
    projectRole: text("project_role", { enum: ["admin", "editor", "viewer"] }),
    status: text("status", { enum: ["pending", "accepted", "declined", "revoked", "expired"] })
      .notNull()
      .default("pending"),
    tokenHash: text("token_hash").notNull().unique(),
    /** Incremented by every resend; the email consumer drops messages of older versions. */
    tokenVersion: integer("token_version").notNull().default(1),
    invitedBy: text("invited_by").references(() => admins.id, { onDelete: "set null" }),
    acceptedBy: text("accepted_by").references(() => admins.id, { onDelete: "set null" }),
    acceptedAt: integer("accepted_at"),
    /** Stamped by the accepting request's guarded UPDATE; its other statements are keyed on it. */
    acceptNonce: text("accept_nonce"),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deliveryStatus: text("delivery_status", { enum: ["queued", "sent", "failed"] })
      .notNull()
      .default("queued"),
    deliveryAttempts: integer("delivery_attempts").notNull().default(0),
    deliveryError: text("delivery_error"),
    deliverySentAt: integer("delivery_sent_at"),
    /** `owner_add`: an existing user added by id, pending their consent; `email` otherwise. */
    source: text("source", { enum: ["email", "owner_add"] })
      .notNull()
      .default("email"),
  },
  (t) => [
    uniqueIndex("invites_one_pending")
      .on(t.email, t.organizationId, sql`COALESCE(${t.projectId}, '')`)
      .where(sql`${t.status} = 'pending'`),
    index("invites_org_status").on(t.organizationId, t.status, t.createdAt, t.id),
    index("invites_project_status").on(t.projectId, t.status, t.createdAt, t.id),
    index("invites_email_status").on(t.email, t.status, t.expiresAt),
    index("invites_status_expires").on(t.status, t.expiresAt),
    index("invites_status_updated").on(t.status, t.updatedAt),
    check("invites_email_length", sql`length(${t.email}) BETWEEN 3 AND 254`),
    check("invites_project_role_scope", sql`(${t.projectId} IS NULL) = (${t.projectRole} IS NULL)`),
  ],
);

/** Fixed-window rate-limit counters. */
export const rateLimits = sqliteTable(
  "rate_limits",
  {
    key: text("key").notNull(),
    windowStart: integer("window_start").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] }), index("rate_limits_window").on(t.windowStart)],
);
