import { D1_MAX_PARAMS, type Db } from "../core/db";

/**
 * Bench-only D1 accounting (`npm run bench`). When the Worker runs with the var
 * `BENCH_COUNT_D1 = "1"` — set by the bench harness only, never in wrangler.toml — the router wraps
 * the request's D1 handles so that each `prepare(…).first()/run()/all()/raw()` counts as one round
 * trip and one statement, and each `batch([…])` as one round trip and as many statements as it
 * holds. The totals go out as the response headers `x-d1-round-trips` and `x-d1-statements`, with
 * `x-d1-write-round-trips`: the round trips that wrote (a batch with any INSERT/UPDATE/DELETE counts
 * once), so "the whole change in one batch" is checkable from outside, and `x-d1-sql-ms`: the SQL
 * execution time D1 reports (`meta.duration`), i.e. the database's own share of the request, and
 * `x-d1-sql-log`: each statement's SQL (abridged) and reported time, in order (URI-encoded JSON),
 * so the bench can say which statement dominates.
 * Unset, the router builds none of this: the cost is one property read per request.
 */
export const BENCH_COUNT_D1_VAR = "BENCH_COUNT_D1";

export interface D1CounterHooks {
  /** Awaited before each batch (its 0-based index): lets a test hold concurrent requests in lockstep. */
  beforeBatch?: (index: number) => Promise<void>;
  /** Called after each counted round trip. */
  onTrip?: () => void;
}

/**
 * The one D1 accounting wrapper, for the bench (above) and for tests that pin an endpoint's round
 * trips. Like production D1, a statement with more than 100 bound parameters is refused (local
 * SQLite would accept it).
 */
export class D1Counter {
  roundTrips = 0;
  statements = 0;
  writeRoundTrips = 0;
  batches = 0;
  /** The most parameters bound to one statement. */
  maxParams = 0;
  sqlMs = 0;
  private readonly log: [string, number][] = [];

  constructor(readonly hooks: D1CounterHooks = {}) {}

  /** A counter for this request when the bench var is set, else null. */
  static forEnv(env: Env): D1Counter | null {
    return (env as unknown as Record<string, unknown>)[BENCH_COUNT_D1_VAR] === "1" ? new D1Counter() : null;
  }

  /** Adds the SQL time D1 reports for the results of one round trip, statement by statement. */
  timed<R extends D1Result | D1Result[]>(sql: string[], results: R): R {
    const list = Array.isArray(results) ? results : [results];
    list.forEach((r, i) => {
      const ms = r?.meta?.duration ?? 0;
      this.sqlMs += ms;
      this.log.push([abridge(sql[i] ?? ""), ms]);
    });
    return results;
  }

  /** One round trip of `statements` statements; `writes` when any of them changes data. */
  trip(statements: number, writes: boolean): void {
    this.roundTrips += 1;
    this.statements += statements;
    if (writes) this.writeRoundTrips += 1;
    this.hooks.onTrip?.();
  }

  /** Records a bind; refuses what D1 refuses. */
  bound(count: number): void {
    if (count > D1_MAX_PARAMS) throw new Error(`D1 allows at most ${D1_MAX_PARAMS} bound parameters (got ${count})`);
    this.maxParams = Math.max(this.maxParams, count);
  }

  /** The same handle, counting: statements it prepares count when they run. */
  wrap<T extends Db>(db: T): T {
    const wrapped = {
      prepare: (query: string) => new CountingStatement(db.prepare(query), query, this),
      batch: async (statements: D1PreparedStatement[]) => {
        const index = this.batches++;
        await this.hooks.beforeBatch?.(index);
        this.trip(
          statements.length,
          statements.some((s) => isWrite(sqlOf(s))),
        );
        return this.timed(statements.map(sqlOf), await db.batch(statements.map(unwrap)));
      },
      getBookmark: () => ("getBookmark" in db ? db.getBookmark() : null),
      withSession: (constraint?: string) =>
        this.wrap((db as D1Database).withSession(constraint as D1SessionConstraint | D1SessionBookmark)),
      exec: (query: string) => {
        this.trip(query.split(";").filter((s) => s.trim() !== "").length, isWrite(query));
        return (db as D1Database).exec(query);
      },
      dump: () => (db as D1Database).dump(),
    };
    return wrapped as unknown as T;
  }

  /** The env with its DB binding counted too, so code that reaches `ctx.env.DB` is not missed. */
  wrapEnv(env: Env): Env {
    return { ...env, DB: this.wrap(env.DB) };
  }

  stamp(response: Response): Response {
    const copy = new Response(response.body, response);
    copy.headers.set("x-d1-round-trips", String(this.roundTrips));
    copy.headers.set("x-d1-statements", String(this.statements));
    copy.headers.set("x-d1-write-round-trips", String(this.writeRoundTrips));
    copy.headers.set("x-d1-sql-ms", this.sqlMs.toFixed(3));
    copy.headers.set("x-d1-sql-log", encodeURIComponent(JSON.stringify(this.log)));
    return copy;
  }
}

class CountingStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    readonly sql: string,
    private readonly counter: D1Counter,
  ) {}

  bind(...values: unknown[]): CountingStatement {
    this.counter.bound(values.length);
    return new CountingStatement(this.inner.bind(...values), this.sql, this.counter);
  }

  // D1's first() runs the same query as all() and keeps the first row, but drops `meta`: it is
  // read through all() here so that its SQL time is counted too.
  async first(column?: string) {
    this.counter.trip(1, isWrite(this.sql));
    const result = this.counter.timed([this.sql], await this.inner.all<Record<string, unknown>>());
    const row = result.results[0] ?? null;
    if (column === undefined || row === null) return row;
    if (!(column in row)) throw new Error(`D1_ERROR: Column not found: ${column}`);
    return row[column];
  }

  async run() {
    this.counter.trip(1, isWrite(this.sql));
    return this.counter.timed([this.sql], await this.inner.run());
  }

  async all() {
    this.counter.trip(1, isWrite(this.sql));
    return this.counter.timed([this.sql], await this.inner.all());
  }

  raw(options?: { columnNames?: boolean }) {
    this.counter.trip(1, isWrite(this.sql));
    return options?.columnNames === true ? this.inner.raw({ columnNames: true }) : this.inner.raw();
  }
}

function unwrap(statement: D1PreparedStatement): D1PreparedStatement {
  return statement instanceof CountingStatement ? statement.inner : statement;
}

/** The SQL of a statement; one prepared on an uncounted handle exposes it as workerd's `statement`. */
function sqlOf(statement: D1PreparedStatement): string {
  if (statement instanceof CountingStatement) return statement.sql;
  const text = (statement as unknown as { statement?: unknown }).statement;
  return typeof text === "string" ? text : "";
}

/** The statement's first words, whitespace collapsed: enough to recognise it in a report. */
function abridge(sql: string): string {
  return sql.replace(/\s+/g, " ").trim().slice(0, 120);
}

/** Whether SQL changes data: INSERT/UPDATE/DELETE/REPLACE, also behind a WITH clause. */
function isWrite(sql: string): boolean {
  const text = sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, " ").trimStart();
  if (/^(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(text)) return true;
  return /^WITH\b/i.test(text) && /\b(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(text);
}
