import type { Db } from "./db";
import { ApiError } from "./errors";
import { prepare, type SQL, sql } from "./sql";

/**
 * Fixed-window rate limits kept in D1 (`rate_limits`). D1 rather than the Workers Rate Limiting
 * binding: that binding only counts over 10 s or 60 s, per Cloudflare location and eventually
 * consistent, and its limit is fixed in wrangler.toml, so it could honour neither the hourly
 * invite limit nor the RATE_LIMIT_* variables. A D1 counter is one global count (writes go to the
 * primary) and its statements ride in the batches a request sends anyway: no extra round trip.
 *
 * The pattern, per request: read the counts in the read batch (`rateCountStatement`) and refuse
 * early with `assertWithinLimit`; in the write batch, increment (`rateIncrementStatement`) and
 * guard the rate-limited writes with `rateGuard`, which re-reads the counts inside the same
 * transaction, so concurrent requests cannot together overshoot the limit.
 */
export interface RateWindow {
  key: string;
  limit: number;
  windowMs: number;
  /** Start of the current window (ms). */
  windowStart: number;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** The longest window in use: purging keeps anything younger. */
const LONGEST_WINDOW_MS = HOUR_MS;

export function fixedWindow(key: string, limit: number, windowMs: number, now: number): RateWindow {
  return { key, limit, windowMs, windowStart: Math.floor(now / windowMs) * windowMs };
}

// Every limiter key is built here (in JS, or in SQL when the id is only known inside a statement).
const INVITE_ORG_PREFIX = "invite:org:";
export const inviteOrgKey = (orgId: string): string => `${INVITE_ORG_PREFIX}${orgId}`;
export const inviteUserKey = (userId: string): string => `invite:user:${userId}`;
/** `inviteOrgKey` of an organization id computed inside a statement. */
export const inviteOrgKeySql = (orgId: SQL): SQL => sql`(${INVITE_ORG_PREFIX} || ${orgId})`;
const tokenIpKey = (request: Request): string => `token:ip:${clientIpKey(request.headers.get("CF-Connecting-IP"))}`;

/** Invite emails sent (created or resent) per organization and per inviter, per hour. */
export function inviteWindows(orgId: string, inviterId: string, limit: number, now: number): RateWindow[] {
  return [
    fixedWindow(inviteOrgKey(orgId), limit, HOUR_MS, now),
    fixedWindow(inviteUserKey(inviterId), limit, HOUR_MS, now),
  ];
}

/** Organizations and projects one user creates, per hour (one window for both). */
export function createWindow(userId: string, limit: number, now: number): RateWindow {
  return fixedWindow(`create:user:${userId}`, limit, HOUR_MS, now);
}

/** Token-bearing requests (preview, accept by token) per client IP, per minute. */
export function tokenWindow(request: Request, limit: number, now: number): RateWindow {
  return fixedWindow(tokenIpKey(request), limit, MINUTE_MS, now);
}

/** A window's count inside a statement (0 when it has no row yet). */
export function rateCountSql(key: SQL | string, windowStart: number): SQL {
  return sql`COALESCE((SELECT count FROM rate_limits WHERE key = ${key} AND window_start = ${windowStart}), 0)`;
}

/**
 * The client address as a limiter key. An IPv6 client usually controls a whole /64, so IPv6
 * addresses count per /64 prefix; a request without CF-Connecting-IP (local development) shares
 * one "unknown" bucket.
 */
export function clientIpKey(ip: string | null): string {
  const value = ip?.trim().toLowerCase() ?? "";
  if (value === "" || value.length > 64) return "unknown";
  if (!value.includes(":")) return /^[0-9.]+$/.test(value) ? value : "unknown";
  if (!/^[0-9a-f:.]+$/.test(value)) return "unknown";
  const [head = "", tail = ""] = value.split("::", 2);
  const left = head === "" ? [] : head.split(":");
  const right = value.includes("::") ? (tail === "" ? [] : tail.split(":")) : [];
  const groups = value.includes("::")
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** One read of the current counts of `windows` (missing rows count 0). */
export function rateCountStatement(db: Db, windows: RateWindow[]): D1PreparedStatement {
  const where = sql.join(
    windows.map((w) => sql`(key = ${w.key} AND window_start = ${w.windowStart})`),
    sql` OR `,
  );
  return prepare(db, sql`SELECT key, count FROM rate_limits WHERE ${where}`);
}

export type RateCounts = Map<string, number>;

export function rateCounts(rows: { key: string; count: number }[] | undefined): RateCounts {
  return new Map((rows ?? []).map((r) => [r.key, r.count]));
}

/** Throws 429 (with Retry-After) when `amount` more would take any window over its limit. */
export function assertWithinLimit(windows: RateWindow[], counts: RateCounts, amount: number, now: number): void {
  for (const w of windows) {
    if ((counts.get(w.key) ?? 0) + amount > w.limit) throw rateLimited(w, now);
  }
}

/** Throws 429 when a window's count, read after this request's increment, is over its limit. */
export function assertNotOver(windows: RateWindow[], counts: RateCounts, now: number): void {
  for (const w of windows) {
    if ((counts.get(w.key) ?? 0) > w.limit) throw rateLimited(w, now);
  }
}

/** `assertNotOver` on a `rateCountStatement` read in the same batch, after its increments. */
export function assertReadWithin(windows: RateWindow[], read: D1Result | undefined, now: number): void {
  assertNotOver(windows, rateCounts(read?.results as { key: string; count: number }[] | undefined), now);
}

export function rateLimited(w: RateWindow, now: number): ApiError {
  const retryAfter = Math.max(1, Math.ceil((w.windowStart + w.windowMs - now) / 1000));
  return new ApiError("RATE_LIMITED", `Too many requests; retry in ${retryAfter} seconds.`, {
    headers: { "Retry-After": String(retryAfter) },
  });
}

/**
 * Adds `amount` to a window. Once a window is past its limit it stops counting (the row is not
 * rewritten), so a client hammering a closed window costs no further writes.
 */
export function rateIncrementStatement(db: Db, w: RateWindow, amount: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, ?)
       ON CONFLICT (key, window_start) DO UPDATE SET count = count + excluded.count
       WHERE rate_limits.count <= ?`,
    )
    .bind(w.key, w.windowStart, amount, w.limit);
}

/** A SQL condition that holds while every window is within its limit. */
export function rateGuard(windows: RateWindow[]): SQL {
  if (windows.length === 0) return sql`1`;
  return sql.join(
    windows.map((w) => sql`${rateCountSql(w.key, w.windowStart)} <= ${w.limit}`),
    sql` AND `,
  );
}

/**
 * Deletes counters of windows that have ended, in a bounded chunk (for the hourly cron: call it
 * until it changes fewer than `chunk` rows, or leave the rest for the next run).
 */
export function purgeRateLimitsStatement(db: Db, now: number, chunk = 1000): D1PreparedStatement {
  return db
    .prepare(
      `DELETE FROM rate_limits WHERE (key, window_start) IN (
         SELECT key, window_start FROM rate_limits WHERE window_start < ? ORDER BY window_start LIMIT ?)`,
    )
    .bind(now - LONGEST_WINDOW_MS, chunk);
}
