import type { Config } from "../core/config";
import type { Db } from "../core/db";
import { gateError, gateStatement } from "../core/platform/gate";

/**
 * The sign-up gate on a request's D1 handle (API.md: a waitlisted caller gets 403 NOT_ADMITTED on
 * every non-exempt endpoint). The router wraps the handle of every authenticated route not marked
 * `waitlistAllowed`: the request's first D1 round trip — whatever its statements, whichever core
 * function or query builder made them — goes out as a batch led by the gate statement. A waitlisted
 * caller's batch then fails as a whole (one transaction: none of its writes happen) and the handler
 * sees NOT_ADMITTED. No round trip is added: a lone statement becomes a batch of two. Once a
 * round trip has passed the gate the handle passes everything through.
 */
export function gatedDb<T extends Db>(db: T, config: Config, userId: string): T {
  let open = false;
  const guarded = async <R>(statements: D1PreparedStatement[], pick: (results: D1Result[]) => R): Promise<R> => {
    if (open) return pick(await db.batch(statements));
    try {
      const results = await db.batch([gateStatement(db, config, userId), ...statements]);
      open = true;
      return pick(results.slice(1));
    } catch (error) {
      throw gateError(error) ?? error;
    }
  };
  const wrapped = {
    prepare: (query: string) => new GatedStatement(db.prepare(query), guarded, () => open),
    batch: (statements: D1PreparedStatement[]) => guarded(statements.map(unwrap), (results) => results),
    getBookmark: () => ("getBookmark" in db ? db.getBookmark() : null),
    withSession: (constraint?: string) =>
      gatedDb((db as D1Database).withSession(constraint as D1SessionConstraint | D1SessionBookmark), config, userId),
    exec: (query: string) => (db as D1Database).exec(query),
    dump: () => (db as D1Database).dump(),
  };
  return wrapped as unknown as T;
}

type Guarded = <R>(statements: D1PreparedStatement[], pick: (results: D1Result[]) => R) => Promise<R>;

class GatedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly guarded: Guarded,
    private readonly isOpen: () => boolean,
  ) {}

  bind(...values: unknown[]): GatedStatement {
    return new GatedStatement(this.inner.bind(...values), this.guarded, this.isOpen);
  }

  async first(column?: string) {
    if (this.isOpen()) return column === undefined ? this.inner.first() : this.inner.first(column);
    const row = await this.guarded([this.inner], (r) => (r[0]?.results[0] ?? null) as Record<string, unknown> | null);
    if (column === undefined || row === null) return row;
    if (!(column in row)) throw new Error(`D1_ERROR: Column not found: ${column}`);
    return row[column];
  }

  async all() {
    if (this.isOpen()) return this.inner.all();
    return this.guarded([this.inner], (r) => r[0] as D1Result);
  }

  async run() {
    if (this.isOpen()) return this.inner.run();
    return this.guarded([this.inner], (r) => r[0] as D1Result);
  }

  // A batch returns rows as objects: as arrays their values keep the column order, but two
  // columns of the same name would have collapsed into one. Queries read through raw() (drizzle's
  // selects) name their columns apart or run after the gate has passed.
  async raw(options?: { columnNames?: boolean }) {
    if (this.isOpen()) return options?.columnNames === true ? this.inner.raw({ columnNames: true }) : this.inner.raw();
    return this.guarded([this.inner], (r) => {
      const rows = (r[0]?.results ?? []) as Record<string, unknown>[];
      const values = rows.map((row) => Object.values(row));
      return options?.columnNames === true ? [Object.keys(rows[0] ?? {}), ...values] : values;
    });
  }
}

function unwrap(statement: D1PreparedStatement): D1PreparedStatement {
  return statement instanceof GatedStatement ? statement.inner : statement;
}
