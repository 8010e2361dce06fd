/**
 * The bench's D1 latency wrapper (`npm run bench -- --d1-latency=MS`), shared by the wrapped Roster
 * Worker (bench/wrapped) and the peer (bench/peer): every D1 round trip — a statement's
 * first/all/run/raw, a batch, an exec — waits `ms` before it goes to the database, as a request
 * waits for the hop to a remote D1 primary on Cloudflare. The wait is a timer, not CPU, so CPU per
 * request is unchanged. The delay comes per request from the `x-bench-d1-latency` header, so one
 * Worker serves every latency setting without a restart.
 */
export const LATENCY_HEADER = "x-bench-d1-latency";

/** The delay a request asks for (0 when absent or not a small non-negative number). */
export function latencyOf(request: Request): number {
  const ms = Number(request.headers.get(LATENCY_HEADER) ?? "0");
  return Number.isFinite(ms) && ms > 0 && ms <= 1000 ? ms : 0;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// workerd's batch() reads its statements' internal fields: a wrapped statement is unwrapped first.
const inner = new WeakMap<object, D1PreparedStatement>();

function statement(real: D1PreparedStatement, ms: number): D1PreparedStatement {
  const wrapped = {
    bind: (...values: unknown[]) => statement(real.bind(...values), ms),
    first: async (column?: string) => {
      await sleep(ms);
      return column === undefined ? real.first() : real.first(column);
    },
    all: async () => {
      await sleep(ms);
      return real.all();
    },
    run: async () => {
      await sleep(ms);
      return real.run();
    },
    raw: async (options?: { columnNames?: boolean }) => {
      await sleep(ms);
      return options?.columnNames === true ? real.raw({ columnNames: true }) : real.raw();
    },
    // The SQL, where the counting wrapper looks for it on an uncounted statement.
    get statement() {
      return (real as unknown as { statement?: string }).statement;
    },
  };
  inner.set(wrapped, real);
  return wrapped as unknown as D1PreparedStatement;
}

type Handle = D1Database | D1DatabaseSession;

/** `db` with every round trip `ms` later; `db` itself when `ms` is 0. */
export function delayed<T extends Handle>(db: T, ms: number): T {
  if (ms <= 0) return db;
  const wrapped = {
    prepare: (query: string) => statement(db.prepare(query), ms),
    batch: async (statements: D1PreparedStatement[]) => {
      await sleep(ms);
      return db.batch(statements.map((s) => inner.get(s) ?? s));
    },
    exec: async (query: string) => {
      await sleep(ms);
      return (db as D1Database).exec(query);
    },
    dump: () => (db as D1Database).dump(),
    withSession: (constraint?: string) =>
      delayed((db as D1Database).withSession(constraint as D1SessionConstraint | D1SessionBookmark), ms),
    getBookmark: () => ("getBookmark" in db ? db.getBookmark() : null),
  };
  return wrapped as unknown as T;
}
