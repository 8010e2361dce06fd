import type { Config } from "../core/config";

/**
 * CORS for browser callers. Only origins listed in CORS_ORIGINS are answered; no others get any
 * Access-Control header. (Filled in by the browser issue; until then no origin is allowed.)
 */
export function preflight(_request: Request, _config: Config): Response | null {
  return null;
}

export function applyCors(_request: Request, response: Response, _config: Config): Response {
  return response;
}
