import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runEventSweep, SWEEP_GRACE_MS } from "../workers/cron-expiry/sweep-events";
import worker from "../workers/index";
import { deliverEvents, eventRow, eventsOf, received, verified, webhookVars } from "./event-helpers";
import { seedOrg, seedUser, uid } from "./helpers";
import { api, eventsQueueSpy, seedInvite } from "./invite-helpers";

/**
 * Nothing lost: an event whose after-commit hand-off failed stays pending, and the sweep (cron
 * "*\/5 * * * *") re-enqueues it once it is overdue by the grace period; the event then reaches
 * the receiver. The sweep may run twice.
 */
function sweepEnv(vars: Record<string, string>, queue: ReturnType<typeof eventsQueueSpy>): Env {
  return { ...env, ...vars, EVENTS_QUEUE: queue as unknown as Queue } as Env;
}

describe("the event sweep", () => {
  it("delivers an event whose queue send failed, once it is overdue; a second sweep sends nothing more", async () => {
    const hook = uid("hook").replaceAll("_", "-");
    const vars = webhookVars(hook);
    const owner = await seedUser();
    const lost = eventsQueueSpy();
    lost.fail = true;
    const res = await api("POST", "/v1/organizations", {
      as: owner.id,
      body: { name: "Lost Send Co" },
      eventsQueue: lost,
      vars,
    });
    // The send failed after the commit: the request still succeeded, the events are pending.
    expect(res.status, res.text).toBe(201);
    const stored = await eventsOf(res.body.id);
    expect(stored.map((e) => [e.type, e.status])).toEqual([
      ["organization.created", "pending"],
      ["member.added", "pending"],
    ]);

    // Within the grace period the sweep leaves them alone (a hand-off may still be on its way).
    const early = eventsQueueSpy();
    await runEventSweep(sweepEnv(vars, early), Date.now());
    expect(early.eventIds).not.toContain(stored[0]?.event_id);

    const later = Date.now() + SWEEP_GRACE_MS + 1_000;
    const swept = eventsQueueSpy();
    const run = await runEventSweep(sweepEnv(vars, swept), later);
    const ours = stored.map((e) => e.event_id);
    expect(swept.eventIds).toEqual(expect.arrayContaining(ours));
    expect(run.enqueued).toBeGreaterThanOrEqual(2);

    const again = eventsQueueSpy();
    await runEventSweep(sweepEnv(vars, again), later);
    expect(again.eventIds.filter((id) => ours.includes(id))).toEqual([]);

    const runs = await deliverEvents(ours, vars);
    expect(runs.every((r) => r.acked)).toBe(true);
    const deliveries = await received(hook);
    expect(deliveries.map((d) => verified(d).id).sort()).toEqual([...ours].sort());
    for (const id of ours) expect(await eventRow(id)).toMatchObject({ status: "sent", attempts: 1 });
  });

  it("runs from the Worker's scheduled handler on its own cron; without a URL it marks unsendable events disabled", async () => {
    const owner = await seedUser();
    const res = await api("POST", "/v1/organizations", { as: owner.id, body: { name: "Sweep Cron Co" } });
    const [event] = await eventsOf(res.body.id);
    expect(event?.status).toBe("pending");
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }),
      { ...env, EVENTS_QUEUE: eventsQueueSpy() as unknown as Queue } as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(await eventRow(event?.event_id as string)).toMatchObject({ status: "disabled" });
  });

  it("the hourly expiry job hands off the invite.expired events it writes, like a request (the sweep is only the fallback)", async () => {
    const hook = uid("hook").replaceAll("_", "-");
    const vars = webhookVars(hook);
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const overdue = await seedInvite({
      orgId: org.id,
      email: `overdue-${org.id}@example.com`,
      invitedBy: owner.id,
      expiresAt: Date.now() - 1_000,
    });
    const handedOff = eventsQueueSpy();
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: "0 * * * *", scheduledTime: Date.now() }),
      sweepEnv(vars, handedOff),
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const expired = (await eventsOf(org.id)).filter((e) => e.type === "invite.expired");
    expect(expired).toHaveLength(1);
    const [event] = expired;
    expect(handedOff.eventIds).toContain(event?.event_id);

    await deliverEvents([event?.event_id as string], vars);
    const [delivery] = await received(hook);
    expect(verified(delivery as never)).toMatchObject({
      type: "invite.expired",
      organizationId: org.id,
      target: { type: "invite", id: overdue.id },
    });
  });
});
