import { getTableName } from "drizzle-orm";
import { auditEvents } from "../../schema";
import type { Db } from "./db";
import { MAY_NOTIFY } from "./events/notifications";
import { newId } from "./ids";
import { prepare, type SQL, sql } from "./sql";

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

export type AuditTargetType =
  | "organization"
  | "member"
  | "project"
  | "project_member"
  | "invite"
  | "domain"
  | "join_request";

export interface AuditEntry {
  organizationId: string;
  actorId: string | null;
  action: AuditAction;
  target: { type: AuditTargetType; id: string };
  data?: Record<string, unknown>;
  at: number;
}

/**
 * Audit rows written by a query, one per row its `from` yields: the multi-row form (rows from
 * `json_each`, or from the invites a transition just changed) and the conditional form (the guard
 * of the change goes in `from`'s WHERE, so the row is written exactly when the change is). Each
 * value is an SQL expression over `from`'s rows, or a plain value bound where it stands.
 */
export interface AuditRows {
  action: AuditAction;
  targetType: AuditTargetType;
  /** A fresh `newId("auditEvent")` per row (bound, or picked from a JSON list by position). */
  id: SQL | string;
  organizationId: SQL | string;
  actorId: SQL | string | null;
  targetId: SQL | string;
  /** A JSON object (e.g. `json_object(…)`), or its text. */
  data: SQL | string;
  at: number;
  /** `FROM … WHERE …`, or just `WHERE …` for a single conditional row. */
  from: SQL;
}

/**
 * Appended to every INSERT INTO audit_events (made only by `auditRowsStatement`): the new rows'
 * ids, actions and whether they may notify someone by email come back in the statement's results
 * under these distinctive names, so the outbox hand-off (workers/core/events/handoff.ts) finds
 * them in any batch without knowing which use case wrote them — no extra round trip, and nothing
 * for a write path to remember.
 */
const AUDIT_RETURNING = sql`RETURNING ${sql.identifier(auditEvents.id.name)} AS outbox_event_id,
  ${sql.identifier(auditEvents.action.name)} AS outbox_event_type, (${MAY_NOTIFY}) AS outbox_may_notify`;

// The table and its columns from schema/, in the order of the SELECT below.
const AUDIT_TABLE = sql.identifier(getTableName(auditEvents));
const AUDIT_COLUMNS = sql.join(
  [
    auditEvents.id,
    auditEvents.organizationId,
    auditEvents.actorId,
    auditEvents.action,
    auditEvents.targetType,
    auditEvents.targetId,
    auditEvents.data,
    auditEvents.createdAt,
  ].map((c) => sql.identifier(c.name)),
  sql`, `,
);

/**
 * THE writer of audit rows: every `INSERT INTO audit_events` in Roster is a statement made here,
 * to be put in the batch of the change it records. Several `rows` become one statement
 * (UNION ALL), so a change that writes several kinds of rows stays one statement in its batch.
 * Its rows come back (AUDIT_RETURNING) for the outbox hand-off; the events trigger (migration
 * 0008) writes each row's outbox entry in the same statement.
 */
export function auditRowsStatement(db: Db, rows: AuditRows[]): D1PreparedStatement {
  const selects = rows.map(
    (r) =>
      sql`SELECT ${r.id}, ${r.organizationId}, ${r.actorId}, ${r.action}, ${r.targetType}, ${r.targetId}, ${r.data}, ${r.at} ${r.from}`,
  );
  return prepare(
    db,
    sql`INSERT INTO ${AUDIT_TABLE} (${AUDIT_COLUMNS}) ${sql.join(selects, sql` UNION ALL `)} ${AUDIT_RETURNING}`,
  );
}

/**
 * The audit event for a change, as a statement to put in the change's own batch: the record is
 * written if and only if the change is — unconditionally, or only when `condition` holds when the
 * batch runs (for audit rows that must follow a guarded statement of the same batch).
 */
export function auditStatement(db: Db, entry: AuditEntry, condition?: SQL): D1PreparedStatement {
  return auditRowsStatement(db, [
    {
      action: entry.action,
      targetType: entry.target.type,
      id: newId("auditEvent"),
      organizationId: entry.organizationId,
      actorId: entry.actorId,
      targetId: entry.target.id,
      data: JSON.stringify(entry.data ?? {}),
      at: entry.at,
      from: condition === undefined ? sql`` : sql`WHERE ${condition}`,
    },
  ]);
}
