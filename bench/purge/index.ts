import { D1Counter } from "../../workers/api/d1-counter";
// A namespace import: while the job function has not landed, the bench reports it missing
// instead of failing to build.
import * as cron from "../../workers/cron-expiry";

type Job = (env: Env, now: number, budget?: unknown) => Promise<Record<string, unknown>>;

/**
 * POST /run?now=<ms> runs the expiry job once, as the hourly cron does (its default budget), with
 * the env's DB counted; answers the job's own report and the counted round trips and statements.
 */
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const job = (cron as unknown as { runExpiryJob?: Job }).runExpiryJob;
    if (typeof job !== "function") return Response.json({ missing: "runExpiryJob" }, { status: 501 });
    const url = new URL(request.url);
    const now = Number(url.searchParams.get("now"));
    if (request.method !== "POST" || url.pathname !== "/run" || !Number.isSafeInteger(now)) {
      return Response.json({ error: "POST /run?now=<ms>" }, { status: 400 });
    }
    const counter = new D1Counter();
    const run = await job(counter.wrapEnv(env), now);
    return Response.json({ run, roundTrips: counter.roundTrips, statements: counter.statements });
  },
};
