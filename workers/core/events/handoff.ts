import { type Config, getConfig } from "../config";
import type { Db } from "../db";
import { type EventMessage, enqueueEvents } from "./messages";

/**
 * The after-commit hand-off of a request's new events to the events queue (API.md "Events").
 *
 * The request's D1 handle is wrapped once, by the router: every INSERT INTO audit_events ends in
 * `AUDIT_RETURNING`, so its committed rows come back in the results with their event id and type,
 * whichever core function wrote them. After the response is decided the router calls `flush`,
 * which sends those ids with `waitUntil` — no D1 round trip is added, and the queue send is off
 * the response's path. Events that are not handed off (a write path without RETURNING, a crash,
 * a failed send) stay `pending` and the sweep (workers/cron-expiry/sweep-events.ts) sends them.
 *
 * With no EVENTS_WEBHOOK_URL only events that notify someone by email are handed off.
 *
 * The cron jobs and the email consumer hook it the same way (`forEntry`), so the expiry job's
 * `invite.expired` and a dead letter's `invite.delivery_failed` are handed off too, not left to
 * the sweep.
 */
export class EventHandoff {
  private readonly eventIds: string[] = [];

  constructor(
    private readonly queue: Queue<EventMessage>,
    private readonly webhooksOn: boolean,
  ) {}

  static forRequest(env: Env, config: Config): EventHandoff {
    return new EventHandoff(env.EVENTS_QUEUE as Queue<EventMessage>, config.EVENTS_WEBHOOK_URL !== undefined);
  }

  /**
   * For the Worker's other entries (the cron jobs, the email consumer), whose audit writes (expiry,
   * delivery failures) go through the same `auditRowsStatement`. A configuration that does not
   * parse only means nothing is collected beyond notifying events: the sweep sends the rest.
   */
  static forEntry(env: Env): EventHandoff {
    let webhooksOn = false;
    try {
      webhooksOn = getConfig(env).EVENTS_WEBHOOK_URL !== undefined;
    } catch {
      // The entry reports its own configuration error.
    }
    return new EventHandoff(env.EVENTS_QUEUE as Queue<EventMessage>, webhooksOn);
  }

  /** The env with its DB collecting events, for an entry that reads `env.DB`. */
  wrapEnv(env: Env): Env {
    return { ...env, DB: this.wrap(env.DB) };
  }

  /** The ids collected so far (committed events this request wrote). */
  get collected(): readonly string[] {
    return this.eventIds;
  }

  /** Reads the event rows a statement returned, if it wrote any. */
  collect(result: D1Result | undefined): void {
    const rows = result?.results as Record<string, unknown>[] | undefined;
    // Every row of a statement has the same columns: the first tells whether it returned events.
    if (rows === undefined || rows.length === 0 || !("outbox_event_id" in (rows[0] ?? {}))) return;
    for (const row of rows) {
      const id = row.outbox_event_id;
      if (typeof id === "string" && (this.webhooksOn || row.outbox_may_notify === 1)) {
        this.eventIds.push(id);
      }
    }
  }

  /** The same handle, collecting the events its statements write. */
  wrap<T extends Db>(db: T): T {
    const wrapped = {
      prepare: (query: string) => new HandoffStatement(db.prepare(query), this),
      batch: async (statements: D1PreparedStatement[]) => {
        const results = await db.batch(statements.map(unwrap));
        for (const result of results) this.collect(result);
        return results;
      },
      getBookmark: () => ("getBookmark" in db ? db.getBookmark() : null),
      withSession: (constraint?: string) =>
        this.wrap((db as D1Database).withSession(constraint as D1SessionConstraint | D1SessionBookmark)),
      exec: (query: string) => (db as D1Database).exec(query),
      dump: () => (db as D1Database).dump(),
    };
    return wrapped as unknown as T;
  }

  /** Hands the collected ids to the events queue after the response; a failed send is logged (the sweep covers it). */
  flush(exec: ExecutionContext): void {
    if (this.eventIds.length === 0) return;
    const ids = this.eventIds.splice(0);
    exec.waitUntil(
      enqueueEvents(this.queue, ids).catch((error: unknown) => {
        console.error(
          JSON.stringify({
            event: "events.handoff_failed",
            eventIds: ids,
            error: error instanceof Error ? error.message : String(error),
          }),
        );
      }),
    );
  }
}

class HandoffStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly handoff: EventHandoff,
  ) {}

  bind(...values: unknown[]): HandoffStatement {
    return new HandoffStatement(this.inner.bind(...values), this.handoff);
  }

  first(column?: string) {
    return column === undefined ? this.inner.first() : this.inner.first(column);
  }

  async run() {
    const result = await this.inner.run();
    this.handoff.collect(result);
    return result;
  }

  async all() {
    const result = await this.inner.all();
    this.handoff.collect(result);
    return result;
  }

  raw(options?: { columnNames?: boolean }) {
    return options?.columnNames === true ? this.inner.raw({ columnNames: true }) : this.inner.raw();
  }
}

function unwrap(statement: D1PreparedStatement): D1PreparedStatement {
  return statement instanceof HandoffStatement ? statement.inner : statement;
}
