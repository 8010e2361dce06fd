import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { importPKCS8, SignJWT } from "jose";
import { Webhook } from "svix";
import { expect } from "vitest";
import { D1Counter } from "../workers/api/d1-counter";
import { handleFetch } from "../workers/api/router";

/**
 * Shared test helpers. Tests never assume empty tables: every test makes its own users and
 * organizations with unique ids (`uid()`), so files and tests can share a database.
 */
export const BASE = "http://roster.test";

let lastTick = 0;

/**
 * A strictly increasing millisecond clock for seeded rows: rows seeded one after another get
 * distinct, ordered timestamps even within one millisecond, so order-by-time assertions are exact.
 */
export function tick(): number {
  lastTick = Math.max(Date.now(), lastTick + 1);
  return lastTick;
}

export function uid(prefix = "user_test"): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
}

/**
 * Fixed windows start on the clock (every minute / hour): a scenario that happens to straddle a
 * window boundary would see its counts reset. Runs `scenario` (which must make its own users, orgs
 * and IPs) until one run starts and ends inside a single window, then returns its result.
 */
export async function inOneWindow<T>(windowMs: number, scenario: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const start = Math.floor(Date.now() / windowMs);
    const result = await scenario();
    if (Math.floor(Date.now() / windowMs) === start || attempt === 2) return result;
  }
}

let privateKey: CryptoKey | null = null;

export interface TokenOptions {
  /** Seconds from now; negative for an expired token. Default 300. */
  expiresIn?: number;
  /** Seconds from now the token becomes valid (nbf). Default: already valid. */
  notBefore?: number;
  azp?: string;
  /** The session id; null leaves the claim out (a JWT-template token, not a session). */
  sid?: string | null;
  /** Override the signing key (e.g. an attacker's). */
  key?: CryptoKey;
  /** Extra claims. */
  claims?: Record<string, unknown>;
}

/** A session token shaped like Clerk's, signed with the key CLERK_JWT_KEY verifies. */
export async function signToken(userId: string, options: TokenOptions = {}): Promise<string> {
  privateKey ??= await importPKCS8(env.TEST_JWT_PRIVATE_KEY, "RS256");
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    ...(options.sid === null ? {} : { sid: options.sid ?? `sess_${userId}` }),
    ...(options.azp ? { azp: options.azp } : {}),
    ...options.claims,
  })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "ins_test" })
    .setSubject(userId)
    .setIssuer("https://clerk.roster.test")
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (options.expiresIn ?? 300));
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
  else jwt.setNotBefore(now - 5);
  return await jwt.sign(options.key ?? privateKey);
}

export interface CallOptions {
  /** Acts as this user: a fresh valid token is signed for them. */
  as?: string;
  token?: string;
  body?: unknown;
  /** A raw body string, sent as is. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** CF-Connecting-IP. */
  ip?: string;
  /** Replaces EMAIL_QUEUE (e.g. a spy that keeps the raw tokens). */
  queue?: Pick<Queue, "sendBatch">;
  /** Replaces EVENTS_QUEUE (e.g. a spy on the event ids a request hands off). */
  eventsQueue?: Pick<Queue, "sendBatch">;
  /** Counts the request's D1 round trips (see `countingDb`). */
  counter?: TripCounter;
  /** Extra env vars (e.g. a low RATE_LIMIT_*). */
  vars?: Record<string, string>;
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * THE request helper: one HTTP request through the Worker's fetch handler — the deployed entry
 * with its real bindings, or, when the options replace the queue, count D1 or set vars, the API's
 * handler with that environment.
 */
export async function call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
  const headers = new Headers(options.headers);
  if (options.ip !== undefined) headers.set("CF-Connecting-IP", options.ip);
  const token = options.token ?? (options.as ? await signToken(options.as) : undefined);
  if (token !== undefined && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${token}`);
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  const request = new Request(`${BASE}${path}`, { method, headers, body });
  if (
    options.queue === undefined &&
    options.eventsQueue === undefined &&
    options.counter === undefined &&
    options.vars === undefined
  ) {
    return await readResult<T>(await exports.default.fetch(request));
  }
  const testEnv = {
    ...env,
    ...options.vars,
    ...(options.queue ? { EMAIL_QUEUE: options.queue as Queue } : {}),
    ...(options.eventsQueue ? { EVENTS_QUEUE: options.eventsQueue as Queue } : {}),
    DB: options.counter ? countingDb(env.DB, options.counter) : env.DB,
  } as Env;
  const ctx = createExecutionContext();
  const response = await handleFetch(request, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return await readResult<T>(response);
}

/** A response as tests read it: status, headers, the body parsed as JSON when it is JSON. */
export async function readResult<T = any>(response: Response): Promise<CallResult<T>> {
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** Asserts an RFC 9457 problem response with the given status and code. */
export function expectProblem(result: CallResult, status: number, code: string): void {
  expect({ status: result.status, code: result.body?.code }).toEqual({ status, code });
  expect(result.headers.get("Content-Type")).toContain("application/problem+json");
  expect(result.body.requestId).toBe(result.headers.get("X-Request-Id"));
}

export interface SeedUser {
  id?: string;
  email?: string;
  name?: string | null;
  /** Extra addresses; the primary one is `email`, verified. */
  emails?: { email: string; verified: boolean }[];
}

/** Inserts a user directly, as a synced Clerk user (use `clerkWebhook` to go through the webhook). */
export async function seedUser(user: SeedUser = {}): Promise<{ id: string; email: string }> {
  const id = user.id ?? uid();
  const email = user.email ?? `${id.toLowerCase()}@example.com`;
  const now = Date.now();
  const statements = [
    env.DB.prepare(
      "INSERT INTO admins (id, email, name, role, created_at, clerk_updated_at, updated_at) VALUES (?, ?, ?, 'member', ?, ?, ?)",
    ).bind(id, email, user.name === undefined ? `Name ${id.slice(-6)}` : user.name, now, now, now),
    env.DB.prepare(
      "INSERT INTO user_emails (user_id, email, verified, is_primary, created_at) VALUES (?, ?, 1, 1, ?)",
    ).bind(id, email, now),
    ...(user.emails ?? []).map((e) =>
      env.DB.prepare(
        "INSERT INTO user_emails (user_id, email, verified, is_primary, created_at) VALUES (?, ?, ?, 0, ?)",
      ).bind(id, e.email, e.verified ? 1 : 0, now),
    ),
  ];
  await env.DB.batch(statements);
  return { id, email };
}

/** A Clerk webhook, signed with the Svix scheme as Clerk sends it. */
export async function clerkWebhook(
  event: { type: string; data: Record<string, unknown> },
  options: { msgId?: string; timestamp?: Date; secret?: string; headers?: Record<string, string> } = {},
): Promise<CallResult> {
  const msgId = options.msgId ?? `msg_${crypto.randomUUID()}`;
  const timestamp = options.timestamp ?? new Date();
  const payload = JSON.stringify({ object: "event", ...event });
  const signature = new Webhook(options.secret ?? env.CLERK_WEBHOOK_SIGNING_SECRET).sign(msgId, timestamp, payload);
  return await call("POST", "/webhooks/clerk", {
    rawBody: payload,
    headers: {
      "Content-Type": "application/json",
      "svix-id": msgId,
      "svix-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "svix-signature": signature,
      ...options.headers,
    },
  });
}

export interface SeedOrgOptions {
  name?: string;
  maxMembers?: number | null;
  /** Further members with their roles (the owner is added as `owner`). */
  members?: { id: string; role: "owner" | "director" | "manager" | "member" | "guest" }[];
}

/** Inserts an organization with its owner and members directly (tests that are not about creating orgs). */
export async function seedOrg(ownerId: string, options: SeedOrgOptions = {}): Promise<{ id: string; slug: string }> {
  const id = uid("org_test");
  const now = tick();
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO organizations (id, name, slug, created_at, updated_at, max_members) VALUES (?, ?, ?, ?, ?, ?)",
    ).bind(
      id,
      options.name ?? `Org ${id.slice(-6)}`,
      id.toLowerCase().replaceAll("_", "-"),
      now,
      now,
      options.maxMembers ?? null,
    ),
    env.DB.prepare(
      "INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at) VALUES (?, ?, 'owner', ?, ?)",
    ).bind(id, ownerId, now, now),
    ...(options.members ?? []).map((m) => {
      const joinedAt = tick();
      return env.DB.prepare(
        "INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
      ).bind(id, m.id, m.role, joinedAt, joinedAt);
    }),
  ]);
  return { id, slug: id.toLowerCase().replaceAll("_", "-") };
}

/** Inserts a project of `orgId` with members (who must already be organization members). */
export async function seedProject(
  orgId: string,
  members: { id: string; role: "admin" | "editor" | "viewer" }[] = [],
  name?: string,
): Promise<{ id: string }> {
  const id = uid("prj_test");
  const now = tick();
  await env.DB.batch([
    env.DB.prepare("INSERT INTO projects (id, organization_id, name, created_at) VALUES (?, ?, ?, ?)").bind(
      id,
      orgId,
      name ?? `Project ${id.slice(-6)}`,
      now,
    ),
    ...members.map((m) => {
      const joinedAt = tick();
      return env.DB.prepare(
        "INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
      ).bind(id, m.id, m.role, joinedAt, joinedAt);
    }),
  ]);
  return { id };
}

export interface TripCounter {
  trips: number;
  /** Awaited before each batch() (its 0-based index in this request): lets a test run requests in lockstep. */
  beforeBatch?: (index: number) => Promise<void>;
  batches?: number;
}

/**
 * THE counting D1 handle (the Worker's own D1Counter): each statement run on its own
 * (`first/all/run/raw`) is one round trip, each `batch` is one whatever it holds; like production
 * D1 it refuses statements with more than 100 bound parameters. Use it as the handle itself, or as
 * `{ db, roundTrips() }` when passing it to a domain function.
 */
export function countingDb<T extends D1Database | D1DatabaseSession>(
  db: T,
  counter: TripCounter = { trips: 0 },
): T & { db: T; roundTrips: () => number } {
  const d1 = new D1Counter({
    beforeBatch: async (index) => {
      counter.batches = index + 1;
      await counter.beforeBatch?.(index);
    },
    onTrip: () => {
      counter.trips++;
    },
  });
  const wrapped = d1.wrap(db);
  return Object.assign(wrapped, { db: wrapped, roundTrips: () => counter.trips });
}

/** An organization's audit events in the order they were written, `data` parsed. */
export async function auditOf(orgId: string) {
  const { results } = await env.DB.prepare(
    "SELECT action, actor_id, target_type, target_id, data FROM audit_events WHERE organization_id = ? ORDER BY created_at, rowid",
  )
    .bind(orgId)
    .all<{ action: string; actor_id: string | null; target_type: string; target_id: string; data: string }>();
  return results.map((r) => ({ ...r, data: JSON.parse(r.data) }));
}
