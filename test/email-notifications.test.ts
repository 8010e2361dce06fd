import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runEventSweep, SWEEP_GRACE_MS } from "../workers/cron-expiry/sweep-events";
import { address, inviteDelivery, mailTo, only, runQueue, smtpVars } from "./email-helpers";
import { deliverEvents } from "./event-helpers";
import { seedOrg, seedUser, uid } from "./helpers";
import { api, eventsQueueSpy, spyQueue } from "./invite-helpers";

/**
 * The notification emails of existing accounts, driven the way production drives them: the
 * request hands its event off (EVENTS_QUEUE), the Worker's real events consumer turns it into a
 * notification message (EMAIL_QUEUE), and the real email consumer sends it to the SMTP sink — the
 * consent-pending offer (an owner_add invite's `invite.created`: no token link) and a join
 * request's decision (`join_request.approved` / `.denied`), each at most once per event.
 */
async function notice(eventId: string) {
  return await env.DB.prepare("SELECT state, attempts, last_error FROM notification_deliveries WHERE event_id = ?")
    .bind(eventId)
    .first<{ state: string; attempts: number; last_error: string | null }>();
}

/** The events consumer on these event ids (no EVENTS_WEBHOOK_URL): the notification messages it queues. */
async function notificationsOf(eventIds: readonly string[]): Promise<unknown[]> {
  const messages: unknown[] = [];
  const emailQueue = {
    async send(body: unknown) {
      messages.push(body);
    },
  };
  await deliverEvents(eventIds, { ...smtpVars(), EMAIL_QUEUE: emailQueue });
  return messages;
}

async function offer(to: string) {
  const owner = await seedUser({ name: "Alice Admin" });
  const org = await seedOrg(owner.id, { name: "Acme" });
  const user = await seedUser({ email: to });
  const queue = spyQueue();
  const events = eventsQueueSpy();
  return { user, org, owner, queue, events };
}

describe("the consent-pending offer", () => {
  it("tells the user who added them where, as what, and to sign in — with no token link; delivery is tracked on the invite", async () => {
    const to = address();
    const { user, org, owner, queue, events } = await offer(to);
    const res = await api("POST", `/v1/organizations/${org.id}/members`, {
      as: owner.id,
      body: { userId: user.id, role: "manager" },
      queue,
      eventsQueue: events,
    });
    expect(res.status, res.text).toBe(201);
    // No invite email with a token: the offer is the invite.created event's notification.
    expect(queue.messages).toEqual([]);
    const eventId = only(events.eventIds);
    const message = only(await notificationsOf([eventId]));
    expect(message).toEqual({ type: "notification", eventId, userId: user.id });
    expect(await runQueue([{ body: message }])).toEqual([{ acked: true, retried: false, delaySeconds: undefined }]);
    const mail = only(await mailTo(to));
    expect(mail.subject).toBe("Alice Admin added you to Acme on Roster");
    expect(mail.text).toContain("Alice Admin added you to the organization Acme as a manager.");
    expect(mail.text).toContain("sign in to accept or decline");
    for (const part of [mail.text ?? "", mail.html ?? ""]) expect(part).not.toContain("#token=");
    expect(mail.link).toBe("http://localhost:8787");
    expect(await inviteDelivery(res.body.invite.id)).toMatchObject({ delivery_status: "sent", delivery_attempts: 1 });
    // A redelivery of either message sends nothing more.
    await runQueue([{ body: message }]);
    expect(await notificationsOf([eventId])).toEqual([]);
    expect(await mailTo(to)).toHaveLength(1);
  });

  it("a lost hand-off is recovered by the sweep: the offer still reaches the user, once", async () => {
    const to = address();
    const { user, org, owner, events } = await offer(to);
    events.fail = true;
    const res = await api("POST", `/v1/organizations/${org.id}/members`, {
      as: owner.id,
      body: { userId: user.id },
      eventsQueue: events,
    });
    expect(res.status, res.text).toBe(201);
    expect(events.eventIds).toEqual([]);
    const swept = eventsQueueSpy();
    await runEventSweep({ ...env, EVENTS_QUEUE: swept } as unknown as Env, Date.now() + SWEEP_GRACE_MS + 1_000);
    const created = await env.DB.prepare(
      "SELECT id FROM audit_events WHERE organization_id = ? AND action = 'invite.created'",
    )
      .bind(org.id)
      .first<{ id: string }>();
    expect(swept.eventIds).toContain(created?.id);
    const message = only(await notificationsOf([created?.id as string]));
    await runQueue([{ body: message }]);
    expect(only(await mailTo(to)).subject).toBe("Alice Admin added you to Acme on Roster");
  });
});

describe("a join request's decision", () => {
  async function decided(status: "approved" | "denied", prefix = "") {
    const domain = `${uid("corp").toLowerCase().replaceAll("_", "-")}.com`;
    const owner = await seedUser();
    const org = await seedOrg(owner.id, { name: "Initech" });
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO organization_domains (organization_id, domain, enrollment, verified_by, created_at, updated_at) VALUES (?, ?, 'request', ?, ?, ?)",
    )
      .bind(org.id, domain, owner.id, now, now)
      .run();
    const to = `${prefix}${uid("mail").toLowerCase()}@${domain}`;
    const user = await seedUser({ email: to });
    const jr = await api("POST", `/v1/organizations/${org.id}/join-requests`, { as: user.id, body: {} });
    expect(jr.status, jr.text).toBe(201);
    const events = eventsQueueSpy();
    const res = await api("POST", `/v1/join-requests/${jr.body.id}/${status === "approved" ? "approve" : "deny"}`, {
      as: owner.id,
      body: status === "approved" ? { role: "member" } : undefined,
      eventsQueue: events,
    });
    expect(res.status, res.text).toBe(200);
    const eventId = only(events.eventIds);
    return { to, message: only(await notificationsOf([eventId])), key: eventId };
  }

  it("approved: the requester is told they joined, once (a redelivery sends nothing)", async () => {
    const { to, message, key } = await decided("approved");
    expect(await runQueue([{ body: message }])).toEqual([{ acked: true, retried: false, delaySeconds: undefined }]);
    const mail = only(await mailTo(to));
    expect(mail.subject).toBe("You joined Initech on Roster");
    expect(mail.text).toContain("Your request to join Initech was approved: you are now a member there.");
    await runQueue([{ body: message }]);
    expect(await mailTo(to)).toHaveLength(1);
    expect(await notice(key)).toMatchObject({ state: "sent", attempts: 1 });
  });

  it("denied: the requester is told, with no link", async () => {
    const { to, message } = await decided("denied");
    await runQueue([{ body: message }]);
    const mail = only(await mailTo(to));
    expect(mail.subject).toBe("Your request to join Initech was declined");
    expect(mail.link).toBeNull();
  });

  it("a transient failure retries; the dead-letter queue records it failed; a rejected recipient fails at once", async () => {
    const temp = await decided("approved", "tempfail-");
    const [first] = await runQueue([{ body: temp.message }]);
    expect(first).toMatchObject({ acked: false, retried: true });
    expect(await notice(temp.key)).toMatchObject({ state: "sending", attempts: 1 });
    expect(await runQueue([{ body: temp.message, attempts: 6 }], undefined, "roster-email-dlq")).toEqual([
      { acked: true, retried: false, delaySeconds: undefined },
    ]);
    expect((await notice(temp.key))?.state).toBe("failed");
    expect((await notice(temp.key))?.last_error).toContain("451");

    const rejected = await decided("denied", "reject-");
    expect(await runQueue([{ body: rejected.message }])).toEqual([
      { acked: true, retried: false, delaySeconds: undefined },
    ]);
    expect(await notice(rejected.key)).toMatchObject({ state: "failed" });
  });

  it("a message for an event that does not exist sends nothing", async () => {
    const { to, message } = await decided("approved");
    const stale = { ...(message as object), eventId: `evt_${uid("gone")}` };
    expect(await runQueue([{ body: stale }])).toEqual([{ acked: true, retried: false, delaySeconds: undefined }]);
    expect(await mailTo(to)).toEqual([]);
  });

  it("an automatic approval (enrollment auto) emails nobody: the user joined themselves", async () => {
    const domain = `${uid("corp").toLowerCase().replaceAll("_", "-")}.com`;
    const owner = await seedUser();
    const org = await seedOrg(owner.id, { name: "Autojoin" });
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO organization_domains (organization_id, domain, enrollment, verified_by, created_at, updated_at) VALUES (?, ?, 'auto', ?, ?, ?)",
    )
      .bind(org.id, domain, owner.id, now, now)
      .run();
    const user = await seedUser({ email: `${uid("mail").toLowerCase()}@${domain}` });
    const events = eventsQueueSpy();
    const jr = await api("POST", `/v1/organizations/${org.id}/join-requests`, {
      as: user.id,
      body: {},
      eventsQueue: events,
    });
    expect(jr.body.status).toBe("approved");
    expect(events.eventIds).toEqual([]);
  });
});
