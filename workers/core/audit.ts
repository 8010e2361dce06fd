import type { Db } from "./db";
import { newId } from "./ids";

export type AuditAction =
  | "organization.created"
  | "organization.updated"
  | "organization.deleted"
  | "project.created"
  | "invite.created"
  | "invite.resent"
  | "invite.revoked"
  | "invite.accepted"
  | "invite.declined"
  | "invite.expired"
  | "invite.delivery_failed"
  | "member.added"
  | "member.role_changed"
  | "member.removed"
  | "member.left"
  | "member.promoted"
  | "project_member.added"
  | "project_member.role_changed"
  | "project_member.removed"
  | "project_member.left";

export interface AuditEntry {
  organizationId: string;
  actorId: string | null;
  action: AuditAction;
  target: { type: "organization" | "member" | "project" | "project_member" | "invite"; id: string };
  data?: Record<string, unknown>;
  at: number;
}

/**
 * Appended to every INSERT INTO audit_events: the new rows' ids and actions come back in the
 * statement's results under these distinctive names, so the request's outbox hand-off
 * (workers/core/events/handoff.ts) finds them in any batch without knowing which function wrote
 * them — no extra round trip, and none for the write paths to remember.
 */
export const AUDIT_RETURNING = "RETURNING id AS outbox_event_id, action AS outbox_event_type";

/**
 * The audit event for a change, as a statement to put in the change's own batch: the record is
 * written if and only if the change is.
 */
export function auditStatement(db: Db, entry: AuditEntry): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${AUDIT_RETURNING}`,
    )
    .bind(
      newId("auditEvent"),
      entry.organizationId,
      entry.actorId,
      entry.action,
      entry.target.type,
      entry.target.id,
      JSON.stringify(entry.data ?? {}),
      entry.at,
    );
}

/**
 * The same, written only when `condition` (a SQL expression over `?` params) holds when the batch
 * runs: for audit rows that must follow a guarded statement earlier in the same batch.
 */
export function auditStatementIf(db: Db, entry: AuditEntry, condition: string, params: unknown[]): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
       SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ${condition} ${AUDIT_RETURNING}`,
    )
    .bind(
      newId("auditEvent"),
      entry.organizationId,
      entry.actorId,
      entry.action,
      entry.target.type,
      entry.target.id,
      JSON.stringify(entry.data ?? {}),
      entry.at,
      ...params,
    );
}
