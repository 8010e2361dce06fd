/** Cron entry. Each schedule in wrangler.toml maps to one job; an unknown schedule is a bug. */
export async function handleScheduled(
  controller: ScheduledController,
  _env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  switch (controller.cron) {
    case "0 * * * *":
      // The hourly expiry job lands with the email/expiry issue.
      return;
    default:
      throw new Error(`No job is scheduled for cron "${controller.cron}"`);
  }
}
