import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Db } from "./db";

export { type SQL, sql };

// D1's dialect (drizzle-orm/d1 renders with the async SQLite dialect).
const dialect = new SQLiteAsyncDialect();

/**
 * A D1 statement from a drizzle `sql` template: each value is bound where it is interpolated and
 * fragments compose as values, so no list of `?`s depends on where pieces were pasted. It stays a
 * plain D1 statement (for `db.batch`, `changes()` and the round-trip counter); drizzle only renders.
 */
export function prepare(db: Db, query: SQL): D1PreparedStatement {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return db.prepare(text).bind(...params);
}

/** The text and values a template renders to (tests and the bench's statement log). */
export function render(query: SQL): { sql: string; params: unknown[] } {
  return dialect.sqlToQuery(query);
}
