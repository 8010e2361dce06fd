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
  | "project_member.left"
  | "domain.added"
  | "domain.updated"
  | "domain.removed"
  | "join_request.created"
  | "join_request.approved"
  | "join_request.denied"
  | "join_request.withdrawn";

export interface AuditEntry {
  organizationId: string;
  actorId: string | null;
  action: AuditAction;
  target: {
    type: "organization" | "member" | "project" | "project_member" | "invite" | "domain" | "join_request";
    id: string;
  };
  data?: Record<string, unknown>;
  at: number;
}

/**
 * The audit event for a change, as a statement to put in the change's own batch: the record is
 * written if and only if the change is.
 */
export function auditStatement(db: Db, entry: AuditEntry): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
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
       SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ${condition}`,
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
