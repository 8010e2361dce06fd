import { type Config, ConfigError } from "../core/config";
import { ApiError } from "../core/errors";

/**
 * CORS for browser callers (the `<roster-invites>` banner on a product's own origin).
 *
 * `CORS_ORIGINS` is a comma-separated list of exact origins (`scheme://host[:port]`, no path, no
 * wildcard). An entry may end in `;credentials` to also send `Access-Control-Allow-Credentials:
 * true` to that origin, for callers that authenticate with the `__session` cookie rather than a
 * bearer token:
 *
 *   CORS_ORIGINS="https://app.example.com;credentials, http://localhost:5173"
 *
 * Listed origins get the Access-Control headers; every other origin gets none at all, so the
 * browser refuses to hand it the response. A malformed entry fails loudly (MISCONFIGURED).
 */
export const CORS_METHODS = "GET, POST, PATCH, DELETE";
const ALLOWED_HEADERS = "Authorization, Content-Type, X-D1-Bookmark";
const EXPOSED_HEADERS = "X-Request-Id, X-D1-Bookmark, Retry-After";
/** Seconds a browser may cache a preflight (Chromium caps it at 7200). */
const PREFLIGHT_MAX_AGE = "600";

interface CorsPolicy {
  /** Allowed origin -> whether credentials are allowed for it. */
  origins: Map<string, boolean>;
}

const policies = new WeakMap<Config, CorsPolicy | ConfigError>();

function parseEntry(entry: string): [origin: string, credentials: boolean] {
  const [rawOrigin = "", ...flags] = entry.split(";").map((s) => s.trim());
  const candidate = rawOrigin.replace(/\/+$/, "").toLowerCase();
  let origin: string;
  try {
    origin = new URL(candidate).origin;
  } catch {
    throw new ConfigError(`CORS_ORIGINS: "${entry}" is not an origin`);
  }
  if (origin !== candidate || origin === "null") {
    throw new ConfigError(`CORS_ORIGINS: "${entry}" must be a bare origin such as https://app.example.com`);
  }
  for (const flag of flags) {
    if (flag !== "credentials") throw new ConfigError(`CORS_ORIGINS: unknown option "${flag}" in "${entry}"`);
  }
  return [origin, flags.includes("credentials")];
}

function policyOf(config: Config): CorsPolicy | ConfigError {
  let policy = policies.get(config);
  if (policy === undefined) {
    try {
      policy = { origins: new Map(config.CORS_ORIGINS.map(parseEntry)) };
    } catch (error) {
      policy = error instanceof ConfigError ? error : new ConfigError(String(error));
    }
    policies.set(config, policy);
  }
  return policy;
}

/**
 * Answers every OPTIONS request (the API has no OPTIONS routes): 204, plus the preflight's
 * Access-Control headers when the origin is allowed. `applyCors` then adds the origin itself.
 * Throws ConfigError on a malformed CORS_ORIGINS, inside the router's error handling.
 */
export function preflight(request: Request, config: Config): Response | null {
  const policy = policyOf(config);
  if (policy instanceof ConfigError) throw policy;
  if (request.method !== "OPTIONS") return null;
  const headers = new Headers({ Allow: `${CORS_METHODS}, OPTIONS` });
  const origin = request.headers.get("Origin");
  if (origin !== null && policy.origins.has(origin) && request.headers.has("Access-Control-Request-Method")) {
    headers.set("Access-Control-Allow-Methods", CORS_METHODS);
    headers.set("Access-Control-Allow-Headers", ALLOWED_HEADERS);
    headers.set("Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
  }
  return new Response(null, { status: 204, headers });
}

/** Stamps the CORS headers on every response to an allowed origin; leaves all others untouched. */
export function applyCors(request: Request, response: Response, config: Config): Response {
  const policy = policyOf(config);
  // A malformed list allows nothing (preflight has already turned it into a MISCONFIGURED error).
  if (policy instanceof ConfigError || policy.origins.size === 0) return response;
  const copy = new Response(response.body, response);
  // Responses differ by Origin whenever a list is configured: caches must key on it.
  copy.headers.append("Vary", "Origin");
  const origin = request.headers.get("Origin");
  const credentials = origin === null ? undefined : policy.origins.get(origin);
  if (origin === null || credentials === undefined) return copy;
  copy.headers.set("Access-Control-Allow-Origin", origin);
  copy.headers.set("Access-Control-Expose-Headers", EXPOSED_HEADERS);
  if (credentials) copy.headers.set("Access-Control-Allow-Credentials", "true");
  return copy;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * CSRF defence for cookie-authenticated requests. The browser attaches the `__session` cookie to
 * requests other sites make, and a no-body POST (accept or decline by id, resend) is a CORS
 * "simple" request: it is sent, and acted on, without any preflight. So an unsafe method
 * authenticated by the cookie must come from the Worker's own origin or a `CORS_ORIGINS` entry
 * marked `;credentials`, judged by `Origin` (every current browser sends it on POST, PATCH and
 * DELETE), else by `Sec-Fetch-Site: same-origin`. Anything else, including a request with
 * neither header, is 403 before the handler runs: nothing changes. Bearer tokens are not
 * affected: no browser attaches those on its own.
 */
export function assertCookieOrigin(request: Request, config: Config): void {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return;
  const policy = policyOf(config);
  if (policy instanceof ConfigError) throw policy;
  const origin = request.headers.get("Origin");
  const trusted =
    origin !== null
      ? origin === new URL(request.url).origin || policy.origins.get(origin) === true
      : request.headers.get("Sec-Fetch-Site") === "same-origin";
  if (!trusted) {
    throw new ApiError(
      "FORBIDDEN",
      "A cookie-authenticated request must come from this service's own origin or a trusted one.",
    );
  }
}
