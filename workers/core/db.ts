/**
 * Thin helpers over the D1 binding. Every helper is one round trip; callers batch what belongs
 * together (a D1 batch is one round trip and one transaction).
 */
export type Db = D1Database | D1DatabaseSession;

export async function all<T>(stmt: D1PreparedStatement): Promise<T[]> {
  return (await stmt.all<T>()).results;
}

export async function first<T>(stmt: D1PreparedStatement): Promise<T | null> {
  return await stmt.first<T>();
}

/** Rows a write changed: guarded transitions check it to know whether they won. */
export function changes(result: D1Result): number {
  return result.meta.changes ?? 0;
}

/** Runs statements as one batch (one round trip, one transaction); an empty list is no trip. */
export async function batch(db: Db, statements: D1PreparedStatement[]): Promise<D1Result[]> {
  if (statements.length === 0) return [];
  return await db.batch(statements);
}

/** SQLite's limit on bound parameters per statement in D1. */
export const D1_MAX_PARAMS = 100;

/** "?, ?, ?" for an IN list. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : iso(ms);
}

/** Whether a D1 error is a UNIQUE/PRIMARY KEY violation (D1 reports SQLite's message text). */
export function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof Error && /UNIQUE constraint failed|SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)/i.test(error.message)
  );
}

/** Whether a D1 error is a FOREIGN KEY violation. */
export function isForeignKeyViolation(error: unknown): boolean {
  return error instanceof Error && /FOREIGN KEY constraint failed/i.test(error.message);
}
