/**
 * Counts the peer's D1 round trips (a statement's first/all/run/raw, a batch) for one request and
 * stamps them as `x-d1-round-trips` / `x-d1-statements`, the headers Roster's own counter
 * (workers/core/d1-counter.ts) answers, so the bench reads both sides the same way.
 */
export class D1Trips {
  roundTrips = 0;
  statements = 0;
  private readonly inner = new WeakMap<object, D1PreparedStatement>();

  wrap(db: D1Database): D1Database {
    const count = (n: number) => {
      this.roundTrips += 1;
      this.statements += n;
    };
    const statement = (real: D1PreparedStatement): D1PreparedStatement => {
      const wrapped = {
        bind: (...values: unknown[]) => statement(real.bind(...values)),
        first: (column?: string) => {
          count(1);
          return column === undefined ? real.first() : real.first(column);
        },
        all: () => {
          count(1);
          return real.all();
        },
        run: () => {
          count(1);
          return real.run();
        },
        raw: (options?: { columnNames?: boolean }) => {
          count(1);
          return options?.columnNames === true ? real.raw({ columnNames: true }) : real.raw();
        },
      };
      this.inner.set(wrapped, real);
      return wrapped as unknown as D1PreparedStatement;
    };
    const wrapped = {
      prepare: (query: string) => statement(db.prepare(query)),
      batch: (statements: D1PreparedStatement[]) => {
        count(statements.length);
        return db.batch(statements.map((s) => this.inner.get(s) ?? s));
      },
      exec: (query: string) => {
        count(1);
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
    return copy;
  }
}
