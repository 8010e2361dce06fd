import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { organizations } from "./organizations";
import { admins } from "./users";

/**
 * Email domains an organization claimed. Invariants: `domain` is canonical (trimmed, lower-case,
 * IDNA ASCII), neither a public suffix nor a free-mail domain; the claimer (`verified_by`) held a
 * verified address at it when claiming. Several organizations may claim one domain.
 */
export const organizationDomains = sqliteTable(
  "organization_domains",
  {
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    domain: text("domain").notNull(),
    enrollment: text("enrollment", { enum: ["request", "auto"] })
      .notNull()
      .default("request"),
    verifiedBy: text("verified_by").references(() => admins.id, { onDelete: "set null" }),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.domain] }),
    index("organization_domains_domain").on(t.domain, t.organizationId),
    check("organization_domains_enrollment", sql`${t.enrollment} IN ('request', 'auto')`),
  ],
);

/**
 * A user's request to join an organization suggested to them by a domain. Invariants: at most one
 * `pending` request per (organization, user) — a partial unique index; `role` is set exactly when
 * `approved`; every decision is a guarded transition out of `pending`, stamping `decision_nonce`.
 */
export const joinRequests = sqliteTable(
  "join_requests",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => admins.id, { onDelete: "cascade" }),
    status: text("status", { enum: ["pending", "approved", "denied", "withdrawn"] })
      .notNull()
      .default("pending"),
    role: text("role", { enum: ["owner", "director", "manager", "member", "guest"] }),
    message: text("message"),
    domain: text("domain").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    decidedAt: integer("decided_at"),
    /** NULL for an automatic approval, and once the decider is deleted. */
    decidedBy: text("decided_by").references(() => admins.id, { onDelete: "set null" }),
    decisionNonce: text("decision_nonce"),
  },
  (t) => [
    uniqueIndex("join_requests_one_pending").on(t.organizationId, t.userId).where(sql`${t.status} = 'pending'`),
    index("join_requests_org_status").on(t.organizationId, t.status, t.createdAt, t.id),
    index("join_requests_user").on(t.userId, t.createdAt, t.id),
  ],
);
