import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Users, mirrored from Clerk. The table keeps its legacy name `admins` (renaming a live table is a
 * breaking migration).
 */
export const admins = sqliteTable("admins", {
  /** Clerk's user id (`user_…`). */
  id: text("id").primaryKey(),
  /**
   * The primary verified address, canonical; UNIQUE (legacy). A legacy user keeps their legacy value until Clerk syncs them.
   * A user with none (whose webhook has not arrived, or with no verified primary, or whose address a verified holder keeps)
   * holds a `…@users.invalid` placeholder. Never shown: the shown address is read from user_emails (users.ts displayEmailSql).
   */
  email: text("email").notNull().unique(),
  name: text("name"),
  /** @deprecated Legacy single-organization membership. No code reads or writes it; see `organizationUsers`. */
  organizationId: text("organization_id"),
  /** @deprecated Legacy role ('owner' | 'admin' | 'member'); see `organizationUsers.role`. */
  role: text("role").notNull().default("member"),
  createdAt: integer("created_at").notNull(),
  /** `updated_at` of the last applied Clerk webhook; NULL until the first one arrives. An older event never overwrites a newer one. */
  clerkUpdatedAt: integer("clerk_updated_at"),
  updatedAt: integer("updated_at").notNull(),
});

/** Every address of a user, canonical (trimmed, NFC, lower-case), with its verification state. Accepting an invite reads only verified rows. */
export const userEmails = sqliteTable(
  "user_emails",
  {
    userId: text("user_id")
      .notNull()
      .references(() => admins.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    verified: integer("verified").notNull(),
    isPrimary: integer("is_primary").notNull().default(0),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.email] }),
    index("user_emails_email").on(t.email, t.verified),
    check("user_emails_verified", sql`${t.verified} IN (0, 1)`),
    check("user_emails_is_primary", sql`${t.isPrimary} IN (0, 1)`),
  ],
);

/** Users deleted in Clerk: a late user.created/updated must not resurrect them. */
export const userTombstones = sqliteTable("user_tombstones", {
  userId: text("user_id").primaryKey(),
  deletedAt: integer("deleted_at").notNull(),
});
