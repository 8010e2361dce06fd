import { getTableName } from "drizzle-orm";
import { invites } from "../../../schema";
import { auditRowsStatement } from "../audit";
import type { Db } from "../db";
import { newId } from "../ids";
import { prepare, type SQL, sql } from "../sql";

// The table and the columns of the invite being expired (alias `i`), named by the schema.
const INVITES = sql.identifier(getTableName(invites));
const i = Object.fromEntries(
  (["id", "organizationId", "email", "status", "expiresAt", "updatedAt"] as const).map((key) => [
    key,
    sql.raw(`i."${invites[key].name}"`),
  ]),
) as Record<"id" | "organizationId" | "email" | "status" | "expiresAt" | "updatedAt", SQL>;

/**
 * THE expiry transition: the overdue pending invites among `due` (a `SELECT` of invite rowids)
 * become `expired`, each with an `invite.expired` audit row (actor: the system), while `guard`
 * holds. Two statements for the caller's batch, which select the same rows by the same condition:
 * the audit insert first (it reads the rows as still pending), then the update. Used by create
 * and resend (a stale invite frees the one-pending slot) and by the hourly cron.
 *
 * `auditIds` (at least as many as rows can be due) pair with the rows by position in
 * (expires_at, rowid) order: one JSON parameter instead of one per row.
 */
export function expireOverdueStatements(
  db: Db,
  input: { due: SQL; now: number; guard?: SQL; auditIds: number },
): [D1PreparedStatement, D1PreparedStatement] {
  const { due, now } = input;
  const guard = input.guard ?? sql`1`;
  const ids = JSON.stringify(Array.from({ length: input.auditIds }, () => newId("auditEvent")));
  // The unary `+` keeps these terms off the (status, expires_at) index, so the planner looks the
  // rows up by `rowid IN (due)` instead of scanning every overdue invite.
  const overdue = sql`i.rowid IN (${due}) AND +${i.status} = 'pending' AND +${i.expiresAt} <= ${now}`;
  return [
    auditRowsStatement(db, [
      {
        action: "invite.expired",
        targetType: "invite",
        id: sql`json_extract(${ids}, '$[' || d.position || ']')`,
        organizationId: sql`d.organization_id`,
        actorId: null,
        targetId: sql`d.id`,
        data: sql`json_object('email', d.email,
                              'expiresAt', strftime('%Y-%m-%dT%H:%M:%fZ', d.expires_at / 1000.0, 'unixepoch'))`,
        at: now,
        from: sql`FROM (SELECT ${i.id} AS id, ${i.organizationId} AS organization_id, ${i.email} AS email,
                               ${i.expiresAt} AS expires_at,
                               row_number() OVER (ORDER BY ${i.expiresAt}, i.rowid) - 1 AS position
                        FROM ${INVITES} i WHERE ${overdue}) d
                  WHERE ${guard}`,
      },
    ]),
    prepare(
      db,
      sql`UPDATE ${INVITES} AS i SET ${sql.identifier(invites.status.name)} = 'expired',
                 ${sql.identifier(invites.updatedAt.name)} = ${now}
          WHERE ${overdue} AND ${guard}`,
    ),
  ];
}
