import { describe, expect, it } from "vitest";
import { EVENT_MAX_ATTEMPTS } from "../workers/events-consumer/deliver";
import { runQueue } from "./email-helpers";
import { deliverEvents, eventRow, eventsOf, received, verified, webhookVars } from "./event-helpers";
import { seedOrg, seedUser, uid } from "./helpers";
import { api, eventsQueueSpy, spyQueue } from "./invite-helpers";

/**
 * Outbound events (API.md "Events"): every audit row is an event written in its change's own
 * transaction, handed to the events queue after the response, POSTed signed with the Standard
 * Webhooks scheme to a real receiver on 127.0.0.1, retried with backoff, failed after the last
 * attempt, and idempotent under redelivery.
 */
function hookName(): string {
  return uid("hook").replaceAll("_", "-");
}

describe("outbound events reach a real receiver", () => {
  it("invite -> accept -> role change -> removal: each event once, signed, with the documented fields, in sequence order; no extra D1 round trip", async () => {
    const hook = hookName();
    const vars = webhookVars(hook);
    const owner = await seedUser({ name: "Olive Owner" });
    const org = await seedOrg(owner.id);
    const invitee = await seedUser({ name: "Ivy Invitee" });
    const events = eventsQueueSpy();
    const emails = spyQueue();

    const trips = { create: { trips: 0 }, accept: { trips: 0 }, patch: { trips: 0 }, remove: { trips: 0 } };
    const created = await api("POST", `/v1/organizations/${org.id}/invites`, {
      as: owner.id,
      body: { emails: [invitee.email] },
      queue: emails,
      eventsQueue: events,
      counter: trips.create,
      vars,
    });
    expect(created.status, created.text).toBe(201);
    const inviteId = created.body.results[0].invite.id;
    const token = emails.messages[0]?.token;
    const accepted = await api("POST", "/v1/invites/accept", {
      as: invitee.id,
      body: { token },
      eventsQueue: events,
      counter: trips.accept,
      vars,
    });
    expect(accepted.status, accepted.text).toBe(200);
    const patched = await api("PATCH", `/v1/organizations/${org.id}/members/${invitee.id}`, {
      as: owner.id,
      body: { role: "manager" },
      eventsQueue: events,
      counter: trips.patch,
      vars,
    });
    expect(patched.status, patched.text).toBe(200);
    const removed = await api("DELETE", `/v1/organizations/${org.id}/members/${invitee.id}`, {
      as: owner.id,
      eventsQueue: events,
      counter: trips.remove,
      vars,
    });
    expect(removed.status, removed.text).toBe(204);

    // The events rode in each change's own batch: the same round trips as without events.
    expect([trips.create.trips, trips.accept.trips, trips.patch.trips, trips.remove.trips]).toEqual([1, 1, 2, 2]);

    // Every audit row was handed off after its request, and nothing else.
    const stored = await eventsOf(org.id);
    expect(stored.map((e) => e.type)).toEqual([
      "invite.created",
      "invite.accepted",
      "member.added",
      "member.role_changed",
      "member.removed",
    ]);
    expect(events.eventIds).toEqual(stored.map((e) => e.event_id));

    // Delivered, then delivered again (Queues is at least once): the second run sends nothing.
    const first = await deliverEvents(events.eventIds, vars);
    expect(first.every((r) => r.acked && !r.retried)).toBe(true);
    const again = await deliverEvents(events.eventIds, vars);
    expect(again.every((r) => r.acked && !r.retried)).toBe(true);

    const deliveries = await received(hook);
    expect(deliveries).toHaveLength(5);
    const byId = new Map<string, any>();
    for (const delivery of deliveries) byId.set(delivery.headers["webhook-id"] ?? "", verified(delivery));
    const got = [...byId.values()].sort((a, b) => a.sequence - b.sequence);
    expect(got.map((e) => e.id)).toEqual(stored.map((e) => e.event_id));
    for (let i = 1; i < got.length; i++) expect(got[i].sequence).toBeGreaterThan(got[i - 1].sequence);
    for (const event of got) {
      expect(Object.keys(event).sort()).toEqual(
        ["actor", "createdAt", "data", "id", "organizationId", "sequence", "target", "type"].sort(),
      );
      expect(event.id).toMatch(/^evt_[0-9a-z]{26}$/);
      expect(event.organizationId).toBe(org.id);
      expect(new Date(event.createdAt).toISOString()).toBe(event.createdAt);
    }
    const [inviteCreated, inviteAccepted, memberAdded, roleChanged, memberRemoved] = got;
    expect(inviteCreated).toMatchObject({
      type: "invite.created",
      actor: { userId: owner.id },
      target: { type: "invite", id: inviteId },
    });
    expect(inviteAccepted).toMatchObject({
      type: "invite.accepted",
      actor: { userId: invitee.id },
      target: { type: "invite", id: inviteId },
      data: { email: invitee.email, role: "member" },
    });
    expect(memberAdded).toMatchObject({
      type: "member.added",
      actor: { userId: invitee.id },
      target: { type: "user", id: invitee.id },
      data: { role: "member", inviteId },
    });
    expect(roleChanged).toMatchObject({
      type: "member.role_changed",
      actor: { userId: owner.id },
      target: { type: "user", id: invitee.id },
      data: { from: "member", to: "manager" },
    });
    expect(memberRemoved).toMatchObject({
      type: "member.removed",
      actor: { userId: owner.id },
      target: { type: "user", id: invitee.id },
    });
    for (const id of events.eventIds) expect(await eventRow(id)).toMatchObject({ status: "sent", attempts: 1 });
  });

  it("a receiver that answers 500 twice then 200 gets the event on the third attempt, with backoff between", async () => {
    const hook = hookName();
    const vars = webhookVars(hook, "?fail=2");
    const owner = await seedUser();
    const events = eventsQueueSpy();
    const res = await api("POST", "/v1/organizations", {
      as: owner.id,
      body: { name: "Retry Co" },
      eventsQueue: events,
      vars,
    });
    expect(res.status, res.text).toBe(201);
    const eventId = events.eventIds[0] as string;

    const runs = [];
    for (let attempt = 1; attempt <= 3; attempt++) runs.push((await deliverEvents([eventId], vars, attempt))[0]);
    expect(runs.map((r) => [r?.acked, r?.retried, r?.delaySeconds])).toEqual([
      [false, true, 30],
      [false, true, 60],
      [true, false, undefined],
    ]);
    const deliveries = await received(hook);
    expect(deliveries.map((d) => d.status)).toEqual([500, 500, 200]);
    expect(new Set(deliveries.map((d) => verified(d).id))).toEqual(new Set([eventId]));
    expect(await eventRow(eventId)).toMatchObject({ status: "sent", attempts: 3, last_error: null });
  });

  it("a receiver that always answers 500 ends failed with the reason after the last attempt, and a redelivery sends it", async () => {
    const hook = hookName();
    const operator = await seedUser();
    const vars = webhookVars(hook, "?fail=always", { PLATFORM_ADMIN_USER_IDS: operator.id });
    const owner = await seedUser();
    const events = eventsQueueSpy();
    await api("POST", "/v1/organizations", { as: owner.id, body: { name: "Down Co" }, eventsQueue: events, vars });
    const eventId = events.eventIds[0] as string;

    for (let attempt = 1; attempt <= EVENT_MAX_ATTEMPTS; attempt++) {
      const [run] = await deliverEvents([eventId], vars, attempt);
      expect(run?.acked).toBe(attempt === EVENT_MAX_ATTEMPTS);
    }
    expect(EVENT_MAX_ATTEMPTS).toBeGreaterThanOrEqual(5);
    expect(await eventRow(eventId)).toMatchObject({
      status: "failed",
      attempts: EVENT_MAX_ATTEMPTS,
      last_error: "The receiver answered HTTP 500",
    });
    const listed = await api("GET", `/v1/platform/events?delivery=failed&type=organization.created&limit=100`, {
      as: operator.id,
      vars,
    });
    expect(listed.body.data.find((e: any) => e.id === eventId)?.delivery).toEqual({
      status: "failed",
      attempts: EVENT_MAX_ATTEMPTS,
      lastError: "The receiver answered HTTP 500",
    });

    // The receiver is fixed (another hook that answers 200); the operator redelivers.
    const fixed = webhookVars(hook, "", { PLATFORM_ADMIN_USER_IDS: operator.id });
    const redeliveries = eventsQueueSpy();
    const redeliver = await api("POST", `/v1/platform/events/${eventId}/redeliver`, {
      as: operator.id,
      eventsQueue: redeliveries,
      vars: fixed,
    });
    expect(redeliver.status, redeliver.text).toBe(202);
    expect(redeliveries.eventIds).toEqual([eventId]);
    const [run] = await deliverEvents(redeliveries.eventIds, fixed);
    expect(run?.acked).toBe(true);
    expect(await eventRow(eventId)).toMatchObject({ status: "sent", attempts: EVENT_MAX_ATTEMPTS + 1 });
    const deliveries = await received(hook);
    expect(deliveries.map((d) => d.status)).toEqual([...Array(EVENT_MAX_ATTEMPTS).fill(500), 200]);
  });

  it("an unreachable receiver is a failed attempt with the reason, retried with backoff", async () => {
    const owner = await seedUser();
    // Port 9 (discard) on 127.0.0.1: nothing listens there, the connection is refused.
    const vars = {
      ...webhookVars("unused"),
      EVENTS_WEBHOOK_URL: "http://127.0.0.1:9/hook",
      EVENTS_RETRY_BASE_SECONDS: "7",
    };
    const events = eventsQueueSpy();
    await api("POST", "/v1/organizations", {
      as: owner.id,
      body: { name: "Unreachable Co" },
      eventsQueue: events,
      vars,
    });
    const eventId = events.eventIds[0] as string;
    const [run] = await deliverEvents([eventId], vars, 2);
    expect(run).toMatchObject({ acked: false, retried: true, delaySeconds: 14 });
    expect(await eventRow(eventId)).toMatchObject({
      status: "pending",
      attempts: 1,
      last_error: expect.stringContaining("Could not reach the receiver"),
    });
  });

  it("a message whose handling kept crashing reaches the dead-letter queue, whose consumer marks the event failed once", async () => {
    const owner = await seedUser();
    const vars = webhookVars(hookName(), "?fail=always");
    const events = eventsQueueSpy();
    await api("POST", "/v1/organizations", {
      as: owner.id,
      body: { name: "Dead Letter Co" },
      eventsQueue: events,
      vars,
    });
    const eventId = events.eventIds[0] as string;
    await deliverEvents([eventId], vars, 1);
    const [dead] = await runQueue([{ body: { eventId } }], vars, "roster-events-dlq");
    expect(dead).toMatchObject({ acked: true });
    const row = await eventRow(eventId);
    expect(row).toMatchObject({ status: "failed", attempts: 1 });
    expect(row.last_error).toBe("Gave up after 1 attempt(s): The receiver answered HTTP 500");
    // Again: the event is no longer pending, nothing changes.
    await runQueue([{ body: { eventId } }], vars, "roster-events-dlq");
    expect((await eventRow(eventId)).last_error).toBe(row.last_error);
  });

  it("without EVENTS_WEBHOOK_URL events are recorded, not sent: nothing is handed off and the consumer marks them disabled", async () => {
    const owner = await seedUser();
    const events = eventsQueueSpy();
    const res = await api("POST", "/v1/organizations", {
      as: owner.id,
      body: { name: "Quiet Co" },
      eventsQueue: events,
    });
    expect(res.status).toBe(201);
    expect(events.eventIds).toEqual([]);
    const [stored] = await eventsOf(res.body.id);
    expect(stored?.status).toBe("pending");
    const [run] = await deliverEvents([stored?.event_id as string], {});
    expect(run?.acked).toBe(true);
    expect(await eventRow(stored?.event_id as string)).toMatchObject({ status: "disabled", attempts: 0 });
  });
});
