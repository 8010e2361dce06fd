/**
 * Counts the peer's D1 round trips (a statement's first/all/run/raw, a batch) for one request and
 * stamps them as `x-d1-round-trips` / `x-d1-statements` / `x-d1-sql-log`, the headers Roster's own
 * counter (workers/core/d1-counter.ts) answers, so the bench reads both sides the same way.
 */
export class D1Trips {
  roundTrips = 0;
  statements = 0;
  /** Each statement's SQL, abridged, in order (no timings: [sql, 0] like Roster's log). */
  private log: [string, number][] = [];

  /** Starts a request's count: one counter serves the isolate's one (shared) instance. */
  reset(): void {
    this.roundTrips = 0;
    this.statements = 0;
    this.log = [];
  }
  private readonly inner = new WeakMap<object, D1PreparedStatement>();

  wrap(db: D1Database): D1Database {
    const count = (sql: string[]) => {
      this.roundTrips += 1;
      this.statements += sql.length;
      for (const text of sql) this.log.push([text.replace(/\s+/g, " ").trim().slice(0, 120), 0]);
    };
    const sqlOf = new WeakMap<object, string>();
    const statement = (real: D1PreparedStatement, sql: string): D1PreparedStatement => {
      const one = () => count([sql]);
      const wrapped = {
        bind: (...values: unknown[]) => statement(real.bind(...values), sql),
        first: (column?: string) => {
          one();
          return column === undefined ? real.first() : real.first(column);
        },
        all: () => {
          one();
          return real.all();
        },
        run: () => {
          one();
          return real.run();
        },
        raw: (options?: { columnNames?: boolean }) => {
          one();
          return options?.columnNames === true ? real.raw({ columnNames: true }) : real.raw();
        },
      };
      this.inner.set(wrapped, real);
      sqlOf.set(wrapped, sql);
      return wrapped as unknown as D1PreparedStatement;
    };
    const wrapped = {
      prepare: (query: string) => statement(db.prepare(query), query),
      batch: (statements: D1PreparedStatement[]) => {
        count(statements.map((s) => sqlOf.get(s) ?? ""));
        return db.batch(statements.map((s) => this.inner.get(s) ?? s));
      },
      exec: (query: string) => {
        count([query]);
        return db.exec(query);
      },
      dump: () => db.dump(),
      withSession: () => {
        throw new Error("the peer does not use D1 sessions");
      },
    };
    return wrapped as unknown as D1Database;
  }

  stamp(response: Response): Response {
    const copy = new Response(response.body, response);
    copy.headers.set("x-d1-round-trips", String(this.roundTrips));
    copy.headers.set("x-d1-statements", String(this.statements));
    copy.headers.set("x-d1-sql-log", encodeURIComponent(JSON.stringify(this.log)));
    return copy;
  }
}
