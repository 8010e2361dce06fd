import { verifyToken } from "@clerk/backend";
import type { Config } from "../core/config";
import { ApiError } from "../core/errors";

export interface AuthUser {
  /** Clerk user id (`sub`). */
  id: string;
  sessionId: string | null;
}

/** The session token from `Authorization: Bearer …`, else the `__session` cookie. */
export function sessionToken(request: Request): string | null {
  const header = request.headers.get("Authorization");
  if (header !== null) {
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
    return match?.[1] ?? null;
  }
  const cookies = request.headers.get("Cookie");
  if (cookies === null) return null;
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === "__session") {
      const value = part.slice(eq + 1).trim();
      return value === "" ? null : value;
    }
  }
  return null;
}

/**
 * Verifies a Clerk session token networklessly against CLERK_JWT_KEY: signature (RS256 family
 * only, so `alg: none` and HMAC tokens fail), exp, nbf, iat, and azp against
 * CLERK_AUTHORIZED_PARTIES when set. Every failure is the same 401: the reason goes to the log,
 * not to the caller.
 */
export async function authenticate(request: Request, config: Config): Promise<AuthUser> {
  const token = sessionToken(request);
  if (token === null) throw new ApiError("UNAUTHENTICATED", "A Clerk session token is required.");
  if (config.CLERK_JWT_KEY === undefined) {
    throw new ApiError("MISCONFIGURED", "CLERK_JWT_KEY is not configured.");
  }
  let payload: Awaited<ReturnType<typeof verifyToken>>;
  try {
    payload = await verifyToken(token, {
      jwtKey: config.CLERK_JWT_KEY,
      ...(config.CLERK_AUTHORIZED_PARTIES.length > 0 ? { authorizedParties: config.CLERK_AUTHORIZED_PARTIES } : {}),
    });
  } catch (error) {
    console.warn(JSON.stringify({ event: "auth.rejected", reason: (error as Error).message }));
    throw new ApiError("UNAUTHENTICATED", "The session token is invalid or expired.");
  }
  const sub = payload.sub;
  if (typeof sub !== "string" || sub.length === 0 || sub.length > 128) {
    throw new ApiError("UNAUTHENTICATED", "The session token is invalid or expired.");
  }
  return { id: sub, sessionId: typeof payload.sid === "string" ? payload.sid : null };
}
