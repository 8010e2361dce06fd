import worker from "../../workers/index";
import { delayed, latencyOf } from "../lib/d1-delay";

/**
 * Roster's own Worker behind the bench's D1 latency wrapper (bench/lib/d1-delay.ts): used for the
 * side-by-side with the peer and for `--d1-latency`, so that both sides carry the same wrapper.
 * Everything else — routes, D1 counting (BENCH_COUNT_D1), queue — is the real Worker's.
 */
export default {
  fetch(request: Request, env: Env, exec: ExecutionContext): Promise<Response> {
    const ms = latencyOf(request);
    return worker.fetch(request, ms === 0 ? env : { ...env, DB: delayed(env.DB, ms) }, exec);
  },
};
