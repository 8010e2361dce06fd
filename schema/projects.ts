import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { organizations } from "./organizations";
import { admins } from "./users";

/** A project belongs to one organization. */
export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("projects_org_created").on(t.organizationId, t.createdAt, t.id)],
);

/**
 * Project membership (legacy name kept). Invariant: a project member is always a member of the
 * project's organization (leaving or removal from the organization removes these rows in the
 * same batch).
 */
export const projectAdmins = sqliteTable(
  "project_admins",
  {
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    adminId: text("admin_id")
      .notNull()
      .references(() => admins.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["admin", "editor", "viewer"] })
      .notNull()
      .default("viewer"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.adminId] }),
    index("project_admins_project_joined").on(t.projectId, t.createdAt, t.adminId),
    index("project_admins_admin").on(t.adminId, t.projectId),
    check("project_admins_role", sql`${t.role} IN ('admin', 'editor', 'viewer')`),
  ],
);
