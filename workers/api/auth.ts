import { verifyToken } from "@clerk/backend";
import type { Config } from "../core/config";
import { ApiError } from "../core/errors";
import { assertCookieOrigin } from "./cors";

export interface AuthUser {
  /** Clerk user id (`sub`). */
  id: string;
  /** Clerk session id (`sid`): only session tokens carry one. */
  sessionId: string;
}

export interface SessionToken {
  value: string;
  /** Where it came from: a cookie rides along on cross-site requests, a header never does. */
  source: "bearer" | "cookie";
}

/** The session token from `Authorization: Bearer …`, else the `__session` cookie. */
export function sessionToken(request: Request): SessionToken | null {
  const header = request.headers.get("Authorization");
  if (header !== null) {
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
    return match?.[1] ? { value: match[1], source: "bearer" } : null;
  }
  const cookies = request.headers.get("Cookie");
  if (cookies === null) return null;
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === "__session") {
      const value = part.slice(eq + 1).trim();
      return value === "" ? null : { value, source: "cookie" };
    }
  }
  return null;
}

/**
 * Verifies a Clerk session token networklessly against CLERK_JWT_KEY: signature (RS256 family
 * only, so `alg: none` and HMAC tokens fail), exp, nbf, iat, azp against CLERK_AUTHORIZED_PARTIES
 * when set, and a `sid`: JWT-template tokens are signed with the same instance key but carry no
 * session (they are often long-lived and handed to third parties), so they are not logins. Every
 * failure is the same 401: the reason goes to the log, not to the caller.
 *
 * A token from the `__session` cookie on an unsafe method must also come from a trusted origin
 * (`assertCookieOrigin`): the browser attaches the cookie to cross-site requests too.
 */
export async function authenticate(request: Request, config: Config): Promise<AuthUser> {
  const token = sessionToken(request);
  if (token === null) throw new ApiError("UNAUTHENTICATED", "A Clerk session token is required.");
  if (token.source === "cookie") assertCookieOrigin(request, config);
  if (config.CLERK_JWT_KEY === undefined) {
    throw new ApiError("MISCONFIGURED", "CLERK_JWT_KEY is not configured.");
  }
  let payload: Awaited<ReturnType<typeof verifyToken>>;
  try {
    payload = await verifyToken(token.value, {
      jwtKey: config.CLERK_JWT_KEY,
      ...(config.CLERK_AUTHORIZED_PARTIES.length > 0 ? { authorizedParties: config.CLERK_AUTHORIZED_PARTIES } : {}),
    });
  } catch (error) {
    console.warn(JSON.stringify({ event: "auth.rejected", reason: (error as Error).message }));
    throw new ApiError("UNAUTHENTICATED", "The session token is invalid or expired.");
  }
  const { sub, sid } = payload;
  if (typeof sub !== "string" || sub.length === 0 || sub.length > 128) {
    throw new ApiError("UNAUTHENTICATED", "The session token is invalid or expired.");
  }
  if (typeof sid !== "string" || sid.length === 0 || sid.length > 128) {
    console.warn(JSON.stringify({ event: "auth.rejected", reason: "no sid claim: not a session token" }));
    throw new ApiError("UNAUTHENTICATED", "The session token is invalid or expired.");
  }
  return { id: sub, sessionId: sid };
}
