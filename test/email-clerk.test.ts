import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sweepStaleClerkInvitations } from "../workers/core/clerk-invitations";
import { getConfig } from "../workers/core/config";
import { createProvider, DeliveryError } from "../workers/email-consumer/providers";
import worker from "../workers/index";
import {
  address,
  captureLogs,
  clerkInvitations,
  clerkRequests,
  clerkVars,
  deliveryFailedEvents,
  inviteDelivery,
  invitedThroughApi,
  mailTo,
  only,
  runQueue,
} from "./email-helpers";
import { seedUser, uid } from "./helpers";
import { api, spyQueue, type TripCounter } from "./invite-helpers";

/**
 * EMAIL_PROVIDER=clerk (seed 002): the consumer creates a Clerk invitation through @clerk/backend
 * against the stand-in Backend API (test/clerk-backend-stand-in.ts, which checks the secret key and
 * every field it receives), and the invitation is revoked when the invite is resent, revoked,
 * accepted or expires.
 */
interface ClerkDelivery {
  token_version: number;
  state: string;
  provider_message_id: string | null;
  clerk_invitation_id: string | null;
  clerk_revoked_at: number | null;
}

async function deliveries(inviteId: string): Promise<ClerkDelivery[]> {
  const { results } = await env.DB.prepare(
    `SELECT token_version, state, provider_message_id, clerk_invitation_id, clerk_revoked_at
     FROM email_deliveries WHERE invite_id = ? ORDER BY token_version`,
  )
    .bind(inviteId)
    .all<ClerkDelivery>();
  return results;
}

/** An invite to `to`, delivered through Clerk (one queue run), and its Clerk invitation. */
async function deliveredThroughClerk(to: string) {
  const invited = await invitedThroughApi(to);
  expect((await runQueue([{ body: invited.message }], clerkVars()))[0]).toMatchObject({ acked: true });
  const invitation = only(await clerkInvitations(to));
  return { ...invited, invitation };
}

/** Runs the clerk_revoke messages a request queued; returns them. */
async function runRevocations(queued: unknown[]) {
  const revocations = queued.filter((m) => (m as { type: string }).type === "clerk_revoke");
  const runs = await runQueue(
    revocations.map((body) => ({ body })),
    clerkVars(),
  );
  return { revocations, runs };
}

describe("an invite delivered through Clerk", () => {
  it("creates a Clerk invitation with the invite's address, redirect, metadata and lifetime, and stores its id", async () => {
    const to = address();
    const { inviteId, invitation } = await deliveredThroughClerk(to);

    const request = only(
      (await clerkRequests()).filter((r) => r.path === "/v1/invitations" && (r.body as any)?.email_address === to),
    );
    expect(request).toMatchObject({
      method: "POST",
      authorization: `Bearer ${clerkVars().CLERK_SECRET_KEY}`,
      status: 200,
    });
    expect(request.body).toEqual({
      email_address: to,
      redirect_url: `http://localhost:8787/invite?invite=${inviteId}`,
      public_metadata: { roster: { kind: "invite", id: inviteId } },
      notify: true,
      ignore_existing: true,
      expires_in_days: 7,
    });
    expect(invitation.status).toBe("pending");

    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "sent",
      delivery_attempts: 1,
      delivery_error: null,
    });
    expect(await deliveries(inviteId)).toEqual([
      {
        token_version: 1,
        state: "sent",
        provider_message_id: invitation.id,
        clerk_invitation_id: invitation.id,
        clerk_revoked_at: null,
      },
    ]);
    // Clerk sends the email: none of ours goes out.
    expect(await mailTo(to)).toEqual([]);
  });

  it("a redelivered message creates no second Clerk invitation", async () => {
    const to = address();
    const { message } = await deliveredThroughClerk(to);
    expect((await runQueue([{ body: message }], clerkVars()))[0]).toMatchObject({ acked: true, retried: false });
    expect(await clerkInvitations(to)).toHaveLength(1);
  });

  it("a Clerk 422 ends `failed` with Clerk's message, audited once, without retrying", async () => {
    const to = address("clerk422-");
    const { inviteId, message } = await invitedThroughApi(to);
    expect((await runQueue([{ body: message }], clerkVars()))[0]).toMatchObject({ acked: true, retried: false });
    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "failed",
      delivery_error: "Clerk 422 form_param_format_invalid: email_address is not allowed to receive invitations",
    });
    expect(await deliveryFailedEvents(inviteId)).toHaveLength(1);
    expect(await clerkInvitations(to)).toEqual([]);
  });

  it("a Clerk 503 is retried with backoff, and the retry creates the invitation", async () => {
    const to = address("clerkflaky-");
    const { inviteId, message } = await invitedThroughApi(to);
    const id = crypto.randomUUID();
    expect((await runQueue([{ id, body: message, attempts: 1 }], clerkVars()))[0]).toMatchObject({
      acked: false,
      retried: true,
      delaySeconds: 10,
    });
    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "queued",
      delivery_error: "Clerk 503 service_unavailable: Clerk is temporarily unavailable",
    });
    expect((await runQueue([{ id, body: message, attempts: 2 }], clerkVars()))[0]).toMatchObject({ acked: true });
    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "sent",
      delivery_attempts: 2,
      delivery_error: null,
    });
    expect(only(await clerkInvitations(to)).status).toBe("pending");
  });

  it("a wrong secret key is Clerk's 401: failed with its message (API.md: any 4xx but 429)", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    await runQueue([{ body: message }], { ...clerkVars(), CLERK_SECRET_KEY: "sk_test_wrong" });
    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "failed",
      delivery_error: "Clerk 401 authentication_invalid: The secret key provided is invalid",
    });
  });

  it("without CLERK_SECRET_KEY nothing is sent: every message retries with the reason", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    const [run] = await runQueue([{ body: message }], { EMAIL_PROVIDER: "clerk", CLERK_SECRET_KEY: "" });
    expect(run).toMatchObject({ retried: true });
    expect((await inviteDelivery(inviteId)).delivery_error).toContain("EMAIL_PROVIDER=clerk needs CLERK_SECRET_KEY");
  });

  it("an email that is not an invitation (a notification) fails permanently and never reaches Clerk", async () => {
    const to = address();
    const provider = createProvider(getConfig({ ...env, ...clerkVars() } as Env));
    const sent = provider.send({
      to,
      from: { email: "no-reply@example.com", name: "Roster" },
      subject: "A notification",
      text: "text",
      html: "<p>html</p>",
      messageId: "<notification-x@example.com>",
      idempotencyKey: "notification-x",
    });
    await expect(sent).rejects.toBeInstanceOf(DeliveryError);
    await expect(sent).rejects.toMatchObject({ kind: "permanent" });
    expect(await clerkInvitations(to)).toEqual([]);
  });
});

describe("the Clerk invitation follows the invite", () => {
  it("resend revokes the old Clerk invitation and the new version creates another", async () => {
    const to = address();
    const { ownerId, inviteId, invitation } = await deliveredThroughClerk(to);

    const queue = spyQueue();
    const resent = await api("POST", `/v1/invites/${inviteId}/resend`, { as: ownerId, queue, vars: clerkVars() });
    expect(resent.status, resent.text).toBe(200);
    const emailV2 = queue.messages.find((m) => m.type === "invite");
    expect(emailV2).toMatchObject({ inviteId, tokenVersion: 2 });
    const { revocations, runs } = await runRevocations(queue.messages);
    expect(revocations).toEqual([{ type: "clerk_revoke", kind: "invite", id: inviteId }]);
    expect(runs).toEqual([{ acked: true, retried: false, delaySeconds: undefined }]);
    await runQueue([{ body: emailV2 }], clerkVars());

    const [old, current] = await clerkInvitations(to);
    expect(old).toMatchObject({ id: invitation.id, status: "revoked" });
    expect(current).toMatchObject({ status: "pending", public_metadata: { roster: { kind: "invite", id: inviteId } } });
    const rows = await deliveries(inviteId);
    expect(rows.map((r) => [r.token_version, r.clerk_invitation_id, r.clerk_revoked_at !== null])).toEqual([
      [1, invitation.id, true],
      [2, current?.id, false],
    ]);
  });

  it("revoke reaches Clerk; a duplicate revocation message calls Clerk no more", async () => {
    const to = address();
    const { ownerId, inviteId, invitation } = await deliveredThroughClerk(to);

    const queue = spyQueue();
    const revoked = await api("DELETE", `/v1/invites/${inviteId}`, { as: ownerId, queue, vars: clerkVars() });
    expect(revoked.status, revoked.text).toBe(204);
    await runRevocations(queue.messages);
    expect(only(await clerkInvitations(to))).toMatchObject({ id: invitation.id, status: "revoked" });

    const before = (await clerkRequests()).length;
    await runRevocations(queue.messages);
    expect((await clerkRequests()).slice(before).filter((r) => r.path.includes(invitation.id))).toEqual([]);
  });

  it("a Clerk 503 on revoke retries the revocation; the retry revokes", async () => {
    const to = address("revokeflaky-");
    const { ownerId, inviteId, invitation } = await deliveredThroughClerk(to);
    const queue = spyQueue();
    await api("DELETE", `/v1/invites/${inviteId}`, { as: ownerId, queue, vars: clerkVars() });
    const { runs } = await runRevocations(queue.messages);
    expect(runs).toEqual([{ acked: false, retried: true, delaySeconds: 10 }]);
    expect(only(await clerkInvitations(to)).status).toBe("pending");
    expect((await deliveries(inviteId))[0]?.clerk_revoked_at).toBeNull();

    await runRevocations(queue.messages);
    expect(only(await clerkInvitations(to)).status).toBe("revoked");
    expect((await deliveries(inviteId))[0]?.clerk_revoked_at).not.toBeNull();
    expect(invitation.id).toBe(only(await clerkInvitations(to)).id);
  });

  it("accepting by id revokes it (Clerk answering that it is no longer pending counts as done)", async () => {
    const to = address();
    const { inviteId, invitation } = await deliveredThroughClerk(to);
    const invitee = await seedUser({ email: to });
    const queue = spyQueue();
    const accepted = await api("POST", `/v1/invites/${inviteId}/accept`, { as: invitee.id, queue, vars: clerkVars() });
    expect(accepted.status, accepted.text).toBe(200);
    await runRevocations(queue.messages);
    expect(only(await clerkInvitations(to))).toMatchObject({ id: invitation.id, status: "revoked" });
  });

  it("expiry: the hourly sweep queues a revocation for each invite with a stale Clerk invitation", async () => {
    const to = address();
    const { inviteId, invitation } = await deliveredThroughClerk(to);
    const live = await deliveredThroughClerk(address());
    await env.DB.prepare("UPDATE invites SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, inviteId)
      .run();

    const queue = spyQueue();
    const queued = await sweepStaleClerkInvitations(env.DB, queue as unknown as Queue, Date.now(), 1000);
    expect(queued).toBeGreaterThanOrEqual(1);
    const ids = queue.messages.map((m) => (m as unknown as { id: string }).id);
    expect(ids).toContain(inviteId);
    expect(ids).not.toContain(live.inviteId);
    await runRevocations(queue.messages.filter((m) => (m as unknown as { id: string }).id === inviteId));
    expect(only(await clerkInvitations(to))).toMatchObject({ id: invitation.id, status: "revoked" });

    const again = spyQueue();
    await sweepStaleClerkInvitations(env.DB, again as unknown as Queue, Date.now(), 1000);
    expect(again.messages.map((m) => (m as unknown as { id: string }).id)).not.toContain(inviteId);
  });
});

describe("the revocation messages", () => {
  it("the hourly cron expires the invite and queues its Clerk revocation in the same run", async () => {
    const to = address();
    const { inviteId } = await deliveredThroughClerk(to);
    await env.DB.prepare("UPDATE invites SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, inviteId)
      .run();
    const queue = spyQueue();
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: "0 * * * *", scheduledTime: new Date() }),
      { ...env, EMAIL_QUEUE: queue as unknown as Queue } as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const row = await env.DB.prepare("SELECT status FROM invites WHERE id = ?")
      .bind(inviteId)
      .first<{ status: string }>();
    expect(row?.status).toBe("expired");
    expect(queue.messages).toContainEqual({ type: "clerk_revoke", kind: "invite", id: inviteId });
    await runRevocations(queue.messages.filter((m) => (m as unknown as { id: string }).id === inviteId));
    expect(only(await clerkInvitations(to)).status).toBe("revoked");
  });

  it("a dead-lettered revocation is logged and acked (the sweep queues it again); a malformed one is dropped", async () => {
    const { result, lines } = await captureLogs(() =>
      runQueue([{ body: { type: "clerk_revoke", kind: "invite", id: "inv_dead" } }], clerkVars(), "roster-email-dlq"),
    );
    expect(only(result)).toMatchObject({ acked: true, retried: false });
    expect(lines.join("\n")).toContain("revoke for invite inv_dead: gave up after every retry");

    const malformed = await runQueue([{ body: { type: "clerk_revoke", kind: "invite", id: "bad id!" } }], clerkVars());
    expect(only(malformed)).toMatchObject({ acked: true, retried: false });
  });
});

describe("a user Roster does not know yet (the webhook has not arrived)", () => {
  function clerkUser(id: string, email: string, verified = true) {
    return {
      object: "user",
      id,
      email_addresses: [
        {
          id: `idn_${id}`,
          object: "email_address",
          email_address: email,
          verification: {
            status: verified ? "verified" : "unverified",
            strategy: "ticket",
            attempts: null,
            expire_at: null,
          },
          linked_to: [],
        },
      ],
      primary_email_address_id: `idn_${id}`,
      first_name: "Tess",
      last_name: "Ticket",
      username: null,
      phone_numbers: [],
      web3_wallets: [],
      external_accounts: [],
      public_metadata: {},
      private_metadata: {},
      unsafe_metadata: {},
      created_at: Date.now(),
      updated_at: Date.now(),
    };
  }

  async function registerClerkUser(user: ReturnType<typeof clerkUser>) {
    const res = await fetch(`${clerkVars().CLERK_API_URL}/__control/users/${user.id}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(user),
    });
    expect(res.status).toBe(204);
  }

  it("accepts by id: the Worker reads the user from Clerk's Backend API and applies it like the webhook", async () => {
    const to = address();
    const { orgId, inviteId } = await deliveredThroughClerk(to);
    const userId = uid("user_ticket");
    await registerClerkUser(clerkUser(userId, to));

    const accepted = await api("POST", `/v1/invites/${inviteId}/accept`, { as: userId, vars: clerkVars() });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.organization).toMatchObject({ id: orgId, role: "member" });
    const fetched = (await clerkRequests()).filter((r) => r.path === `/v1/users/${userId}`);
    expect(only(fetched)).toMatchObject({ method: "GET", status: 200 });
    const me = await api("GET", "/v1/me", { as: userId });
    expect(me.body.user).toMatchObject({ email: to, name: "Tess Ticket", emails: [{ email: to, verified: true }] });
  });

  it("an unverified address at Clerk still cannot accept; without CLERK_SECRET_KEY Clerk is not asked", async () => {
    const to = address();
    const { inviteId } = await deliveredThroughClerk(to);
    const userId = uid("user_ticket");
    await registerClerkUser(clerkUser(userId, to, false));
    const refused = await api("POST", `/v1/invites/${inviteId}/accept`, { as: userId, vars: clerkVars() });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("EMAIL_NOT_VERIFIED");

    const other = uid("user_ticket");
    await registerClerkUser(clerkUser(other, to));
    const unknown = await api("POST", `/v1/invites/${inviteId}/accept`, { as: other });
    expect(unknown.status).toBe(404);
    expect((await clerkRequests()).filter((r) => r.path === `/v1/users/${other}`)).toEqual([]);
  });

  it("a known user refused by id is not looked up at Clerk (no amplification of refused requests)", async () => {
    const to = address();
    const { inviteId } = await deliveredThroughClerk(to);
    const stranger = await seedUser();
    const refused = await api("POST", `/v1/invites/${inviteId}/accept`, { as: stranger.id, vars: clerkVars() });
    expect(refused.status).toBe(404);
    expect((await clerkRequests()).filter((r) => r.path === `/v1/users/${stranger.id}`)).toEqual([]);
  });

  it("a known user's accept by id stays one D1 round trip and never calls Clerk", async () => {
    const to = address();
    const { inviteId } = await deliveredThroughClerk(to);
    const invitee = await seedUser({ email: to });
    const counter: TripCounter = { trips: 0 };
    const accepted = await api("POST", `/v1/invites/${inviteId}/accept`, {
      as: invitee.id,
      counter,
      vars: clerkVars(),
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect(counter.trips).toBe(1);
    expect((await clerkRequests()).filter((r) => r.path === `/v1/users/${invitee.id}`)).toEqual([]);
  });
});
