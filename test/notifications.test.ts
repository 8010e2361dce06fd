import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { address, mailTo, runQueue, smtpVars } from "./email-helpers";
import { deliverEvents, eventRow, eventsOf } from "./event-helpers";
import { seedOrg, seedUser } from "./helpers";
import { api, eventsQueueSpy } from "./invite-helpers";

/**
 * Notification emails (PRODUCT.md "Notifications", seed 004): a member whose organization role
 * changes is emailed through EMAIL_QUEUE and the same providers (here the SMTP sink), at most once
 * per event, with the invitation's retry and failure rules; no email for a change the member made
 * themselves.
 */
function emailQueueSpy() {
  const messages: unknown[] = [];
  return {
    messages,
    async send(body: unknown) {
      messages.push(body);
    },
    async sendBatch(list: Iterable<{ body: unknown }>) {
      for (const m of list) messages.push(m.body);
    },
  };
}

async function changeRole(as: string, orgId: string, userId: string, role: string) {
  const events = eventsQueueSpy();
  const res = await api("PATCH", `/v1/organizations/${orgId}/members/${userId}`, {
    as,
    body: { role },
    eventsQueue: events,
  });
  expect(res.status, res.text).toBe(200);
  return events.eventIds;
}

describe("notification emails", () => {
  it("a member whose role is changed gets one email (HTML and text), however often the messages are redelivered", async () => {
    const owner = await seedUser({ name: "Olive Owner" });
    const member = await seedUser({ email: address(), name: "Mia Member" });
    const org = await seedOrg(owner.id, { name: "Notify & Co", members: [{ id: member.id, role: "member" }] });

    // Without EVENTS_WEBHOOK_URL only notifying events are handed off.
    const handedOff = await changeRole(owner.id, org.id, member.id, "director");
    const [event] = await eventsOf(org.id);
    expect(handedOff).toEqual([event?.event_id]);

    const emails = emailQueueSpy();
    const vars = { ...smtpVars(), EMAIL_QUEUE: emails } as unknown as Record<string, string>;
    await deliverEvents(handedOff, vars);
    await deliverEvents(handedOff, vars);
    // Handed to EMAIL_QUEUE once (notified_at), and the event is recorded, not sent (no URL).
    expect(emails.messages).toEqual([{ type: "notification", eventId: event?.event_id, userId: member.id }]);
    expect(await eventRow(event?.event_id as string)).toMatchObject({
      status: "disabled",
      notified_at: expect.any(Number),
    });

    const message = { body: emails.messages[0] };
    const [sent] = await runQueue([message]);
    expect(sent).toMatchObject({ acked: true, retried: false });
    const [repeat] = await runQueue([message]);
    expect(repeat).toMatchObject({ acked: true, retried: false });

    const mails = await mailTo(member.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.subject).toBe("Your role in Notify & Co is now director");
    expect(mails[0]?.text).toContain("Olive Owner changed your role in Notify & Co from member to director.");
    expect(mails[0]?.html).toContain("Notify &amp; Co");
    const delivery = await env.DB.prepare("SELECT state, attempts FROM notification_deliveries WHERE event_id = ?")
      .bind(event?.event_id)
      .first();
    expect(delivery).toEqual({ state: "sent", attempts: 1 });
  });

  it("a refused address ends the notification failed, like an invitation; a temporary failure is retried with backoff", async () => {
    const owner = await seedUser();
    const rejecting = await seedUser({ email: address("reject-") });
    const flaky = await seedUser({ email: address("tempfail-") });
    const org = await seedOrg(owner.id, {
      members: [
        { id: rejecting.id, role: "member" },
        { id: flaky.id, role: "member" },
      ],
    });
    const ids = [
      ...(await changeRole(owner.id, org.id, rejecting.id, "manager")),
      ...(await changeRole(owner.id, org.id, flaky.id, "manager")),
    ];
    const emails = emailQueueSpy();
    await deliverEvents(ids, { EMAIL_QUEUE: emails });
    expect(emails.messages).toHaveLength(2);

    const [refused, deferred] = await runQueue(emails.messages.map((body) => ({ body })));
    expect(refused).toMatchObject({ acked: true, retried: false });
    expect(deferred).toMatchObject({ acked: false, retried: true, delaySeconds: 10 });
    const states = await env.DB.prepare(
      "SELECT event_id, state, last_error FROM notification_deliveries WHERE event_id IN (?, ?)",
    )
      .bind(ids[0], ids[1])
      .all<any>();
    const byId = new Map(states.results.map((r) => [r.event_id, r]));
    expect(byId.get(ids[0])).toMatchObject({ state: "failed", last_error: expect.stringContaining("550") });
    expect(byId.get(ids[1])).toMatchObject({ state: "sending", last_error: expect.stringContaining("451") });

    // Every retry failed: the dead-letter queue records it failed, once.
    const [dead] = await runQueue([{ body: emails.messages[1] }], smtpVars(), "roster-email-dlq");
    expect(dead).toMatchObject({ acked: true });
    expect(
      await env.DB.prepare("SELECT state FROM notification_deliveries WHERE event_id = ?").bind(ids[1]).first("state"),
    ).toBe("failed");
  });

  it("no email for a change the member made themselves", async () => {
    const owner = await seedUser();
    const other = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: other.id, role: "owner" }] });
    const handedOff = await changeRole(owner.id, org.id, owner.id, "director");
    expect(handedOff).toHaveLength(1);
    const emails = emailQueueSpy();
    await deliverEvents(handedOff, { EMAIL_QUEUE: emails });
    expect(emails.messages).toEqual([]);
    expect(await eventRow(handedOff[0] as string)).toMatchObject({ notified_at: expect.any(Number) });
  });
});
