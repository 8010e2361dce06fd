import { sweepStaleClerkInvitations } from "../core/clerk-invitations";
import { runExpiryJob } from "./expire-invites";

export { EXPIRY_BUDGET, type ExpiryBudget, type ExpiryRun, runExpiryJob } from "./expire-invites";

/** Cron entry. Each schedule in wrangler.toml maps to one job; an unknown schedule is a bug. */
export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  switch (controller.cron) {
    case "0 * * * *": {
      const now = Date.now();
      const run = await runExpiryJob(env, now);
      console.log(JSON.stringify({ event: "cron.expiry", ...run }));
      // After the expiry, so the invites it just expired have their Clerk invitations revoked too.
      const queued = await sweepStaleClerkInvitations(env.DB, env.EMAIL_QUEUE, now);
      if (queued > 0) console.log(JSON.stringify({ event: "cron.clerk_revocations_queued", invites: queued }));
      return;
    }
    default:
      throw new Error(`No job is scheduled for cron "${controller.cron}"`);
  }
}
