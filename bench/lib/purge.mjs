// The expiry job over a large backlog. Filled in when workers/cron-expiry exports its job function.
export async function buildPurgeWorker() {
  return { script: null };
}

export async function runPurge() {
  return null;
}
