import { auditRowsStatement } from "../audit";
import type { Config } from "../config";
import type { Db } from "../db";
import { ApiError } from "../errors";
import { newId } from "../ids";
import { isPlatformAdmin } from "../platform-admins";
import { prepare, type SQL, sql } from "../sql";

/**
 * The sign-up gate's SQL, in one place (API.md "Platform: the sign-up gate"). Everything that
 * decides or checks a user's `access` uses these fragments and statements:
 * - `newUserAccessSql`: the access a user gets when Roster first sees them (webhook or token);
 * - `gateStatement`: the check every non-exempt endpoint's first D1 round trip carries
 *   (workers/api/gated-db.ts puts it there), so it costs no round trip of its own;
 * - `admitStatements`: admission, a guarded write whose condition counts active users, for any
 *   batch that admits (accepting an invite or a platform invitation, an operator's admit, an
 *   approved join request).
 *
 * A failed check must abort the batch it rides in (a write in the same batch must not happen), and
 * SQLite has no RAISE outside triggers: the statements make SQLite fail instead — evaluating
 * json_extract with an invalid path whose text carries a marker — only on the row that breaks the
 * rule. The error rolls the batch back; `gateError` turns the marker into the contract's error.
 * The path is built from the row so the expression cannot be evaluated ahead of time.
 */
const NOT_ADMITTED_MARK = "roster-not-admitted";
const CAP_MARK = "roster-signup-cap-reached";

/** SQL: the number of active users is below the cap (always true without a cap). */
export function seatLeftSql(config: Config): SQL {
  return config.SIGNUP_CAP === null
    ? sql`1`
    : sql`(SELECT count(*) FROM admins WHERE access = 'active') < ${config.SIGNUP_CAP}`;
}

/** SQL expression: the access of a user inserted now. Operators are always active. */
export function newUserAccessSql(config: Config, userId: string): SQL {
  if (isPlatformAdmin(config, userId)) return sql`'active'`;
  if (config.SIGNUP_MODE === "invite_only") return sql`'waitlisted'`;
  return sql`CASE WHEN ${seatLeftSql(config)} THEN 'active' ELSE 'waitlisted' END`;
}

/**
 * Fails the batch when the user is waitlisted. A user Roster has no row for yet (their webhook
 * has not arrived) is judged as a new user would be.
 */
export function gateStatement(db: Db, config: Config, userId: string): D1PreparedStatement {
  return prepare(
    db,
    sql`SELECT json_extract('{}', ${sql.raw(`'${NOT_ADMITTED_MARK} '`)} || u.id) AS gate
        FROM (SELECT ${userId} AS id) u LEFT JOIN admins a ON a.id = u.id
        WHERE coalesce(a.access, ${newUserAccessSql(config, userId)}) <> 'active'`,
  );
}

export interface AdmissionInput {
  /** The user admitted: an id, or an SQL expression naming them (e.g. an approved join request's requester). */
  userId: SQL | string;
  now: number;
  /** Who admits: the operator, else the user themselves (accepting an invitation). */
  actorId: string;
  /** How: `invite`, `platform_invitation`, `operator`, `join_request`. */
  via: "invite" | "platform_invitation" | "operator" | "join_request";
  /**
   * Admit only when this SQL condition holds when the batch runs, e.g. "the invite this request
   * accepted" — so a refused accept neither admits nor hits the cap.
   */
  when?: SQL;
}

/**
 * Admission as statements for the caller's batch (the hook for every path that admits): when the
 * user is waitlisted and `when` holds, the first fails the batch if no seat is left (409
 * SIGNUP_CAP_REACHED through `gateError`: nothing else in the batch happens); the second records
 * `user.admitted` (a platform event: no organization); the third makes them active. D1 runs a
 * batch as one transaction, one at a time, so the count the guard reads is the count the UPDATE
 * changes: the cap is exact under any concurrency. An active user is left as is.
 */
export function admitStatements(db: Db, config: Config, input: AdmissionInput): D1PreparedStatement[] {
  const when = input.when ?? sql`1`;
  const waitlisted = sql`SELECT 1 FROM admins WHERE id = ${input.userId} AND access = 'waitlisted'`;
  return [
    prepare(
      db,
      sql`SELECT json_extract('{}', ${sql.raw(`'${CAP_MARK} '`)} || a.id) AS gate FROM admins a
          WHERE a.id = ${input.userId} AND a.access = 'waitlisted' AND NOT (${seatLeftSql(config)}) AND ${when}`,
    ),
    auditRowsStatement(db, [
      {
        action: "user.admitted",
        targetType: "user",
        id: newId("auditEvent"),
        organizationId: null,
        actorId: input.actorId,
        targetId: input.userId,
        data: JSON.stringify({ via: input.via }),
        at: input.now,
        from: sql`WHERE EXISTS (${waitlisted}) AND ${when}`,
      },
    ]),
    prepare(
      db,
      sql`UPDATE admins SET access = 'active', admitted_at = ${input.now}, updated_at = ${input.now}
          WHERE id = ${input.userId} AND access = 'waitlisted' AND ${when}`,
    ),
  ];
}

/** The contract error a gate statement raised, else null (any other error is not the gate's). */
export function gateError(error: unknown): ApiError | null {
  const message = error instanceof Error ? error.message : "";
  if (message.includes(NOT_ADMITTED_MARK)) {
    return new ApiError(
      "NOT_ADMITTED",
      "You are on the waitlist: accept an invitation, or wait until you are admitted.",
    );
  }
  if (message.includes(CAP_MARK)) {
    return new ApiError("SIGNUP_CAP_REACHED", "The product has no place left for new users right now.");
  }
  return null;
}

/** Runs a batch that may carry gate statements, turning their failures into contract errors. */
export async function gatedBatch(db: Db, statements: D1PreparedStatement[]): Promise<D1Result[]> {
  try {
    return await db.batch(statements);
  } catch (error) {
    throw gateError(error) ?? error;
  }
}
