import { sweepStaleClerkInvitations } from "../core/clerk-invitations";
import { EventHandoff } from "../core/events/handoff";
import { runExpiryJob } from "./expire-invites";
import { runEventSweep } from "./sweep-events";

export { EXPIRY_BUDGET, type ExpiryBudget, type ExpiryRun, runExpiryJob } from "./expire-invites";

/** Cron entry. Each schedule in wrangler.toml maps to one job; an unknown schedule is a bug. */
export async function handleScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  switch (controller.cron) {
    case "0 * * * *": {
      // The events of the invites it expires go to the events queue after each run, like a request's.
      const now = Date.now();
      const handoff = EventHandoff.forEntry(env);
      try {
        const run = await runExpiryJob(handoff.wrapEnv(env), now);
        console.log(JSON.stringify({ event: "cron.expiry", ...run }));
      } finally {
        handoff.flush(ctx);
      }
      // After the expiry, so the invites it just expired have their Clerk invitations revoked too.
      const queued = await sweepStaleClerkInvitations(env.DB, env.EMAIL_QUEUE, now);
      if (queued > 0) console.log(JSON.stringify({ event: "cron.clerk_revocations_queued", invites: queued }));
      return;
    }
    case "*/5 * * * *": {
      const run = await runEventSweep(env, Date.now());
      console.log(JSON.stringify({ event: "cron.event_sweep", ...run }));
      return;
    }
    default:
      throw new Error(`No job is scheduled for cron "${controller.cron}"`);
  }
}
