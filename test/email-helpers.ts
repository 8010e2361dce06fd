import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject, vi } from "vitest";
import type { CaughtMessage } from "../scripts/mail-sink.mjs";
import type { EmailMessage } from "../workers/email-consumer";
import type { InviteEmailMessage } from "../workers/email-consumer/messages";
import worker from "../workers/index";
import type { StandInInvitation, StandInRequest } from "./clerk-backend-stand-in";
import { seedOrg, seedUser, uid } from "./helpers";
import { invite } from "./invite-helpers";

/**
 * Helpers for the email consumer tests: run the Worker's real queue() handler on a batch made
 * with cloudflare:test, against the SMTP sink started by test/global-setup.ts, and read back what
 * the sink received.
 */

/** Env vars that point the Worker at the sink. */
export function smtpVars(): Record<string, string> {
  return { EMAIL_PROVIDER: "smtp", SMTP_HOST: "127.0.0.1", SMTP_PORT: String(inject("smtpPort")) };
}

export interface QueuedMessage {
  body: unknown;
  id?: string;
  attempts?: number;
}

export interface QueueRun {
  acked: boolean;
  retried: boolean;
  /** delaySeconds passed to retry(), when retried. */
  delaySeconds: number | undefined;
}

/**
 * Delivers messages to the Worker's queue() handler as Queues would (one batch), with `vars`
 * overriding the environment. Returns, per message, whether it was acked or retried and the delay.
 */
export async function runQueue(
  messages: QueuedMessage[],
  vars: Record<string, unknown> = smtpVars(),
  queue = "roster-email",
): Promise<QueueRun[]> {
  const batch = createMessageBatch<EmailMessage>(
    queue,
    messages.map((m) => ({
      id: m.id ?? crypto.randomUUID(),
      timestamp: new Date(),
      attempts: m.attempts ?? 1,
      body: m.body as EmailMessage,
    })),
  );
  // The test runtime's retry() records that it was called, not its options: capture the delay.
  const delays = batch.messages.map((message) => {
    const seen: { delay?: number } = {};
    const original = message.retry.bind(message);
    Object.defineProperty(message, "retry", {
      value: (options?: QueueRetryOptions) => {
        seen.delay = options?.delaySeconds;
        original(options);
      },
    });
    return seen;
  });
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...vars } as Env, ctx);
  const result = await getQueueResult(batch, ctx);
  return batch.messages.map((message, i) => ({
    acked: result.explicitAcks.includes(message.id) || result.ackAll,
    retried: result.retryMessages.some((r: { msgId: string }) => r.msgId === message.id) || result.retryBatch.retry,
    delaySeconds: delays[i]?.delay,
  }));
}

/** The one element of `list` (fails the test otherwise). */
export function only<T>(list: readonly T[]): T {
  const [item] = list;
  if (list.length !== 1 || item === undefined) throw new Error(`expected exactly one, got ${list.length}`);
  return item;
}

/** Everything the sink received for `address`. */
export async function mailTo(address: string): Promise<CaughtMessage[]> {
  const res = await fetch(`${inject("mailSinkUrl")}/messages?to=${encodeURIComponent(address)}`);
  return (await res.json()) as CaughtMessage[];
}

/** A fresh, canonical address; `prefix` scripts the sink (reject-, tempfail-, flaky-, drop-). */
export function address(prefix = ""): string {
  return `${prefix}${uid("mail").toLowerCase()}@example.com`;
}

/** An organization with an owner, and one invite to `email` created through the real API. */
export async function invitedThroughApi(
  email: string,
  options: { orgName?: string; inviterName?: string } = {},
): Promise<{ ownerId: string; orgId: string; inviteId: string; message: InviteEmailMessage }> {
  const owner = await seedUser({ name: options.inviterName ?? "Ada Lovelace" });
  const org = await seedOrg(owner.id, { name: options.orgName ?? "Analytical Engines" });
  const { ids, queue } = await invite(owner.id, { orgId: org.id }, [email]);
  const inviteId = ids.get(email);
  const message = queue.messages.find((m) => m.inviteId === inviteId);
  if (inviteId === undefined || message === undefined) throw new Error("the invite was not queued");
  return { ownerId: owner.id, orgId: org.id, inviteId, message };
}

export async function inviteDelivery(id: string): Promise<{
  status: string;
  delivery_status: string;
  delivery_attempts: number;
  delivery_error: string | null;
  delivery_sent_at: number | null;
  token_version: number;
}> {
  const row = await env.DB.prepare(
    "SELECT status, delivery_status, delivery_attempts, delivery_error, delivery_sent_at, token_version FROM invites WHERE id = ?",
  )
    .bind(id)
    .first<any>();
  if (row === null) throw new Error(`no invite ${id}`);
  return row;
}

export async function deliveryFailedEvents(inviteId: string): Promise<any[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM audit_events WHERE target_id = ? AND action = 'invite.delivery_failed'",
  )
    .bind(inviteId)
    .all();
  return results;
}

/** Every console line written while `fn` runs (the Worker shares the test isolate). */
export async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const record = (...args: unknown[]) => {
    lines.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(" "));
  };
  const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation(record),
  );
  try {
    return { result: await fn(), lines };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** Env vars that make Clerk the sender, against the stand-in Backend API (test/global-setup.ts). */
export function clerkVars(): Record<string, string> {
  return { EMAIL_PROVIDER: "clerk", CLERK_SECRET_KEY: inject("clerkSecretKey"), CLERK_API_URL: inject("clerkApiUrl") };
}

/** What the stand-in Clerk Backend API received, oldest first. */
export async function clerkRequests(): Promise<StandInRequest[]> {
  return (await (await fetch(`${inject("clerkApiUrl")}/__control/requests`)).json()) as StandInRequest[];
}

/** The Clerk invitations the stand-in holds for `address`, oldest first. */
export async function clerkInvitations(address: string): Promise<StandInInvitation[]> {
  const all = (await (await fetch(`${inject("clerkApiUrl")}/__control/invitations`)).json()) as StandInInvitation[];
  return all.filter((i) => i.email_address === address);
}
