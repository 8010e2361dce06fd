import { type IRequest, Router } from "itty-router";
import { z } from "zod";
import { ConfigError, getConfig } from "../core/config";
import { ApiError, problemResponse } from "../core/errors";
import { EventHandoff } from "../core/events/handoff";
import { authenticate } from "./auth";
import { applyCors, preflight } from "./cors";
import { D1Counter } from "./d1-counter";
import { parseBody, queryObject, type RequestContext, type RouteDefinition, validate } from "./route";
import { routes } from "./routes";

const ANY_QUERY = z.object({}).passthrough();

/** Runs one route: authenticate -> parse -> handler. Handlers throw ApiError for every failure. */
async function run(route: RouteDefinition, request: IRequest, base: RequestContext): Promise<Response> {
  const user = route.auth ? await authenticate(request, base.config) : null;
  const params = route.params ? validate(route.params, request.params, "path") : undefined;
  const query = validate(route.query ?? ANY_QUERY, queryObject(new URL(request.url)), "query");
  const body = route.method === "get" || route.rawBody ? undefined : await parseBody(request, route.body);
  return await route.handler({ ...base, params, query, body, user } as never);
}

function buildRouter() {
  const router = Router<IRequest, [RequestContext]>();
  for (const route of routes) {
    router[route.method](route.path, (request, base) => run(route, request, base));
  }
  return router;
}

const router = buildRouter();

/**
 * The fetch entry: one place that turns every failure into problem+json and stamps every response
 * with its request id and the no-store / no-referrer headers.
 */
export async function handleFetch(request: Request, env: Env, exec: ExecutionContext): Promise<Response> {
  const requestId = crypto.randomUUID();
  let response: Response;
  let config: ReturnType<typeof getConfig> | null = null;
  // Bench only (BENCH_COUNT_D1 = "1"): D1 round trips and statements as response headers.
  const d1Counter = D1Counter.forEnv(env);
  let handoff: EventHandoff | null = null;
  try {
    config = getConfig(env);
    const session = env.DB.withSession(sessionStart(request.headers.get("x-d1-bookmark")));
    // The one instrumentation hook on the request's D1 handle: the bench's counter (when on) and
    // the outbox hand-off, which collects the events this request commits and sends them to the
    // events queue after the response (`flush`, below).
    handoff = EventHandoff.forRequest(env, config);
    const db = handoff.wrap(d1Counter === null ? session : d1Counter.wrap(session));
    const base: RequestContext = {
      request,
      env: d1Counter === null ? env : d1Counter.wrapEnv(env),
      exec,
      db,
      config,
      requestId,
      now: Date.now(),
    };
    const early = preflight(request, config);
    if (early !== null) {
      response = early;
    } else {
      response = (await router.fetch(request as IRequest, base)) ?? notFound(requestId);
      const newBookmark = db.getBookmark();
      if (newBookmark !== null) {
        response = withHeader(response, "x-d1-bookmark", newBookmark);
      }
    }
  } catch (error) {
    response = errorResponse(error, requestId, request);
  }
  handoff?.flush(exec);
  if (config !== null) response = applyCors(request, response, config);
  if (d1Counter !== null) response = d1Counter.stamp(response);
  return stamp(response, requestId);
}

/**
 * What a D1 bookmark looks like: four dash-separated lower-case hex fields of 8, 8, 8 and 32
 * digits (Cloudflare's Time Travel docs show `00000001-00000002-00004e2f-0a83ea2fceebc654de0640c422be4653`;
 * local D1 issues `00000000-00000008-00000000-00000000000000000000000000000000`).
 */
export const D1_BOOKMARK_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/**
 * Where this request's D1 session starts. Reads start on the primary unless the client carries a
 * bookmark from an earlier response: D1 then serves them from a replica no older than it. Anything
 * else is ignored rather than handed to `withSession`, which would take `first-unconstrained`
 * (any replica, however stale) at the client's word, and garbage to a D1 error (a 500).
 */
export function sessionStart(bookmark: string | null): string {
  return bookmark !== null && D1_BOOKMARK_PATTERN.test(bookmark) ? bookmark : "first-primary";
}

function notFound(requestId: string): Response {
  return problemResponse(new ApiError("NOT_FOUND", "No such resource."), requestId);
}

export function errorResponse(error: unknown, requestId: string, request: Request): Response {
  if (error instanceof ApiError) {
    if (error.status >= 500)
      console.error(JSON.stringify({ event: "request.failed", requestId, code: error.code, detail: error.detail }));
    return problemResponse(error, requestId);
  }
  const url = new URL(request.url);
  if (error instanceof ConfigError) {
    console.error(JSON.stringify({ event: "config.invalid", requestId, message: error.message }));
    return problemResponse(new ApiError("MISCONFIGURED", "The service is misconfigured."), requestId);
  }
  // The stack goes to the log only; the client gets the request id to quote.
  console.error(
    JSON.stringify({
      event: "request.crashed",
      requestId,
      method: request.method,
      path: url.pathname,
      error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error),
    }),
  );
  return problemResponse(
    new ApiError("INTERNAL", "Something went wrong. Quote the request id when reporting it."),
    requestId,
  );
}

function withHeader(response: Response, name: string, value: string): Response {
  const copy = new Response(response.body, response);
  copy.headers.set(name, value);
  return copy;
}

function stamp(response: Response, requestId: string): Response {
  const copy = new Response(response.body, response);
  copy.headers.set("X-Request-Id", requestId);
  if (!copy.headers.has("Cache-Control")) copy.headers.set("Cache-Control", "no-store");
  copy.headers.set("Referrer-Policy", "no-referrer");
  copy.headers.set("X-Content-Type-Options", "nosniff");
  return copy;
}
