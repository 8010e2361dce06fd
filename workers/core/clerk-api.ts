import { createClerkClient } from "@clerk/backend";
import { isClerkAPIResponseError } from "@clerk/backend/errors";
import { type Config, ConfigError } from "./config";

/**
 * Clerk's Backend API through `@clerk/backend`'s own client, pointed at CLERK_API_URL (Clerk, or
 * the stand-in server in tests) with CLERK_SECRET_KEY.
 */
export type ClerkBackend = ReturnType<typeof createClerkClient>;

/** Bounds every call: a hung Clerk must not hold a queue message (or a request) past its lease. */
export const CLERK_TIMEOUT_MS = 15_000;

export function clerkBackend(config: Config): ClerkBackend {
  if (config.CLERK_SECRET_KEY === undefined) throw new ConfigError("the Clerk Backend API needs CLERK_SECRET_KEY");
  return createClerkClient({ secretKey: config.CLERK_SECRET_KEY, apiUrl: config.CLERK_API_URL });
}

/** What a failed Backend API call means for the caller. */
export interface ClerkFailure {
  /** HTTP status; null when no answer came (network error, timeout). */
  status: number | null;
  /** 429, 5xx and no answer are worth retrying; any other 4xx is Clerk's final word. */
  transient: boolean;
  /** Clerk's message (its long_message when it gives one), one line. */
  message: string;
  /** Clerk's error code ("form_identifier_exists", …), when it gave one. */
  code: string | null;
  retryAfterSeconds: number | null;
}

export function clerkFailure(error: unknown): ClerkFailure {
  if (isClerkAPIResponseError(error) && typeof error.status === "number") {
    const first = error.errors[0];
    const detail = first?.longMessage || first?.message || error.message || "no message";
    return {
      status: error.status,
      transient: error.status === 429 || error.status >= 500,
      message: `Clerk ${error.status}${first?.code ? ` ${first.code}` : ""}: ${oneLine(detail)}`,
      code: first?.code ?? null,
      retryAfterSeconds: error.retryAfter ?? null,
    };
  }
  // @clerk/backend reports a failed fetch as an error without a status ("unexpected_error").
  const message = isClerkAPIResponseError(error)
    ? (error.errors[0]?.message ?? error.message)
    : error instanceof Error
      ? error.message
      : String(error);
  return {
    status: null,
    transient: true,
    message: `Clerk unreachable: ${oneLine(message)}`,
    code: null,
    retryAfterSeconds: null,
  };
}

/** Runs one Backend API call within CLERK_TIMEOUT_MS (a timeout is a failure without an answer). */
export async function withClerkTimeout<T>(call: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CLERK_TIMEOUT_MS} ms`)), CLERK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function oneLine(value: string): string {
  const line = value.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
