import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { admins } from "./users";

/** A tenant. Legacy rows took their id as slug. */
export const organizations = sqliteTable(
  "organizations",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    /** Unique; derived from the name when not given. */
    slug: text("slug"),
    /** Optional seat limit: accepting an invite fails with SEAT_LIMIT_REACHED at this many members. NULL = unlimited. */
    maxMembers: integer("max_members"),
    updatedAt: integer("updated_at"),
  },
  (t) => [
    uniqueIndex("organizations_slug").on(t.slug),
    check("organizations_max_members", sql`${t.maxMembers} IS NULL OR ${t.maxMembers} > 0`),
  ],
);

/**
 * Organization membership, many-to-many, one role each. Invariant kept by the code's guarded
 * statements: every organization with members has at least one `owner`.
 */
export const organizationUsers = sqliteTable(
  "organization_users",
  {
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => admins.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "director", "manager", "member", "guest"] })
      .notNull()
      .default("member"),
    /** When the user joined (the member list's `joinedAt`). */
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId] }),
    index("organization_users_org_joined").on(t.organizationId, t.createdAt, t.userId),
    index("organization_users_user").on(t.userId, t.createdAt, t.organizationId),
    check("organization_users_role", sql`${t.role} IN ('owner', 'director', 'manager', 'member', 'guest')`),
  ],
);
