import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { InviteEmailMessage } from "../workers/core/email-messages";
import { generateToken, sha256Hex } from "../workers/core/tokens";
import { type CallOptions, type CallResult, call, uid } from "./helpers";

/**
 * Helpers for the invitation tests: calls through the Worker's real fetch handler with a spy on
 * EMAIL_QUEUE (to read the raw token the way only the email consumer can) and a D1 wrapper that
 * counts round trips.
 */
export interface SpyQueue {
  messages: InviteEmailMessage[];
  /** sendBatch call sizes. */
  calls: number[];
  /** When set, sendBatch throws. */
  fail: boolean;
  sendBatch(messages: Iterable<MessageSendRequest<InviteEmailMessage>>): Promise<QueueSendBatchResponse>;
}

export function spyQueue(): SpyQueue {
  const queue: SpyQueue = {
    messages: [],
    calls: [],
    fail: false,
    async sendBatch(messages) {
      const list = [...messages];
      queue.calls.push(list.length);
      if (queue.fail) throw new Error("Queue send failed");
      if (list.length > 100) throw new Error("sendBatch takes at most 100 messages");
      queue.messages.push(...list.map((m) => m.body));
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendBatchResponse;
    },
  };
  return queue;
}

/** A spy on EVENTS_QUEUE: the event ids a request handed off after its commit. */
export interface EventsQueueSpy {
  eventIds: string[];
  /** When set, sendBatch throws (a lost hand-off). */
  fail: boolean;
  sendBatch(messages: Iterable<MessageSendRequest<{ eventId: string }>>): Promise<QueueSendBatchResponse>;
}

export function eventsQueueSpy(): EventsQueueSpy {
  const queue: EventsQueueSpy = {
    eventIds: [],
    fail: false,
    async sendBatch(messages) {
      const list = [...messages];
      if (queue.fail) throw new Error("Queue send failed");
      if (list.length > 100) throw new Error("sendBatch takes at most 100 messages");
      queue.eventIds.push(...list.map((m) => m.body.eventId));
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendBatchResponse;
    },
  };
  return queue;
}

export { countingDb, type TripCounter } from "./helpers";

export type ApiOptions = Omit<CallOptions, "queue" | "eventsQueue"> & {
  queue?: SpyQueue;
  /** EVENTS_QUEUE; a throwaway spy by default, so no test's events reach the real queue. */
  eventsQueue?: EventsQueueSpy;
};

/** A barrier: `wait()` resolves once it has been called `n` times. */
export function barrier(n: number): { wait: () => Promise<void> } {
  let arrived = 0;
  let release: () => void = () => {};
  const open = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    wait: () => {
      arrived++;
      if (arrived >= n) release();
      return open;
    },
  };
}

export function randomIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

/**
 * `call` for the invitation tests: always through a spy EMAIL_QUEUE (to read the raw token the way
 * only the email consumer can) and a spy EVENTS_QUEUE (the events a request handed off) and from a fresh random client IP, so the per-IP limiter never
 * couples tests.
 */
export async function api<T = any>(method: string, path: string, options: ApiOptions = {}): Promise<CallResult<T>> {
  return await call<T>(method, path, {
    ...options,
    ip: options.ip ?? randomIp(),
    queue: options.queue ?? spyQueue(),
    eventsQueue: options.eventsQueue ?? eventsQueueSpy(),
  });
}

/** Creates invites through the API and returns the results and the raw tokens by address. */
export async function invite(
  as: string,
  scope: { orgId: string } | { projectId: string },
  emails: string[],
  extra: Record<string, unknown> = {},
): Promise<{ res: CallResult; tokens: Map<string, string>; ids: Map<string, string>; queue: SpyQueue }> {
  const queue = spyQueue();
  const path =
    "orgId" in scope ? `/v1/organizations/${scope.orgId}/invites` : `/v1/projects/${scope.projectId}/invites`;
  const res = await api("POST", path, { as, body: { emails, ...extra }, queue });
  expect(res.status, res.text).toBe(201);
  const ids = new Map<string, string>();
  for (const r of res.body.results) if (r.invite) ids.set(r.email, r.invite.id);
  const tokens = new Map<string, string>();
  for (const m of queue.messages) {
    const email = [...ids].find(([, id]) => id === m.inviteId)?.[0];
    if (email !== undefined) tokens.set(email, m.token);
  }
  return { res, tokens, ids, queue };
}

export interface SeedInviteOptions {
  orgId: string;
  projectId?: string | null;
  email: string;
  invitedBy: string | null;
  role?: string;
  projectRole?: string | null;
  status?: "pending" | "accepted" | "declined" | "revoked" | "expired";
  expiresAt?: number;
  createdAt?: number;
}

/** Inserts an invite directly (tests that control its state or clock); returns its id and raw token. */
export async function seedInvite(
  options: SeedInviteOptions,
): Promise<{ id: string; token: string; expiresAt: number }> {
  const id = uid("inv_test");
  const token = generateToken();
  const now = options.createdAt ?? Date.now();
  const expiresAt = options.expiresAt ?? now + 7 * 86_400_000;
  const projectId = options.projectId ?? null;
  await env.DB.prepare(
    `INSERT INTO invites (id, organization_id, project_id, email, role, project_role, status, token_hash, invited_by,
                          expires_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      options.orgId,
      projectId,
      options.email,
      options.role ?? "member",
      projectId === null ? null : (options.projectRole ?? "viewer"),
      options.status ?? "pending",
      await sha256Hex(token),
      options.invitedBy,
      expiresAt,
      now,
      now,
    )
    .run();
  return { id, token, expiresAt };
}

export async function auditRows(orgId: string, action?: string): Promise<any[]> {
  const { results } = await env.DB.prepare(
    `SELECT * FROM audit_events WHERE organization_id = ? ${action ? "AND action = ?" : ""} ORDER BY created_at`,
  )
    .bind(orgId, ...(action ? [action] : []))
    .all();
  return results;
}

export async function inviteRow(id: string): Promise<any> {
  return await env.DB.prepare("SELECT * FROM invites WHERE id = ?").bind(id).first();
}
