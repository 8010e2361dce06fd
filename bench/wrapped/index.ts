import worker from "../../workers/index";
import { delayed, latencyOf } from "../lib/d1-delay";

/**
 * Roster's own Worker behind the bench's D1 latency wrapper (bench/lib/d1-delay.ts): used for the
 * side-by-side with the peer and for `--d1-latency`, so that both sides carry the same wrapper.
 * Everything else — routes, D1 counting (BENCH_COUNT_D1), queue — is the real Worker's.
 *
 * `bench/sockets.mjs` asks (header `x-bench-isolate`) which isolate served a request and how many
 * it has served: a restarted isolate shows up as a new id with its count back at 1.
 */
let isolate: { id: string; requests: number } | null = null;

export default {
  async fetch(request: Request, env: Env, exec: ExecutionContext): Promise<Response> {
    // Random values are not allowed at global scope: the id is drawn by the first request.
    isolate ??= { id: crypto.randomUUID(), requests: 0 };
    isolate.requests += 1;
    const ms = latencyOf(request);
    const response = await worker.fetch(request, ms === 0 ? env : { ...env, DB: delayed(env.DB, ms) }, exec);
    if (!request.headers.has("x-bench-isolate")) return response;
    const copy = new Response(response.body, response);
    copy.headers.set("x-bench-isolate", `${isolate.id} ${isolate.requests}`);
    return copy;
  },
};
