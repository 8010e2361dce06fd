import { describe, expect, it } from "vitest";
import { eventsOf, webhookVars } from "./event-helpers";
import { expectProblem, seedUser } from "./helpers";
import { api } from "./invite-helpers";

/** GET /v1/platform/events and POST /v1/platform/events/{id}/redeliver: operators only, one D1 round trip each. */
describe("operators' events endpoints", () => {
  it("lists events in sequence order with their delivery, filtered by type and delivery, after a sequence, paginated; one round trip", async () => {
    const operator = await seedUser();
    const vars = { PLATFORM_ADMIN_USER_IDS: `someone_else, ${operator.id}` };
    const owner = await seedUser();
    const org = await api("POST", "/v1/organizations", { as: owner.id, body: { name: "Listed Co" } });
    const stored = await eventsOf(org.body.id);
    expect(stored).toHaveLength(2);

    const first = await api("GET", "/v1/platform/events?type=organization.created&limit=100", {
      as: operator.id,
      vars,
    });
    expect(first.status, first.text).toBe(200);
    const ours = first.body.data.find((e: any) => e.id === stored[0]?.event_id);
    expect(ours).toEqual({
      id: stored[0]?.event_id,
      sequence: expect.any(Number),
      type: "organization.created",
      organizationId: org.body.id,
      actor: { userId: owner.id },
      target: { type: "organization", id: org.body.id },
      data: { name: "Listed Co" },
      createdAt: org.body.createdAt,
      delivery: { status: "pending", attempts: 0, lastError: null },
    });
    expect(first.body.data.every((e: any) => e.type === "organization.created")).toBe(true);

    // after= starts strictly after a sequence; pages follow each other in sequence order.
    const counter = { trips: 0 };
    const page1 = await api("GET", `/v1/platform/events?after=${ours.sequence - 1}&limit=1`, {
      as: operator.id,
      vars,
      counter,
    });
    expect(counter.trips).toBe(1);
    expect(page1.body.data.map((e: any) => e.id)).toEqual([stored[0]?.event_id]);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await api("GET", `/v1/platform/events?limit=1&cursor=${page1.body.nextCursor}`, {
      as: operator.id,
      vars,
    });
    expect(page2.body.data.map((e: any) => e.id)).toEqual([stored[1]?.event_id]);
    expect(page2.body.data[0].target).toEqual({ type: "user", id: owner.id });

    const pending = await api("GET", `/v1/platform/events?after=${ours.sequence - 1}&delivery=sent&limit=100`, {
      as: operator.id,
      vars,
    });
    expect(pending.body.data.map((e: any) => e.id)).not.toContain(stored[0]?.event_id);

    expectProblem(
      await api("GET", "/v1/platform/events?delivery=lost", { as: operator.id, vars }),
      400,
      "VALIDATION_FAILED",
    );
  });

  it("is 404 to everyone who is not an operator, and redeliver is 404 for an unknown event", async () => {
    const operator = await seedUser();
    const member = await seedUser();
    const org = await api("POST", "/v1/organizations", { as: member.id, body: { name: "Owner Is Not Operator Co" } });
    const [event] = await eventsOf(org.body.id);
    const vars = webhookVars("nobody", "", { PLATFORM_ADMIN_USER_IDS: operator.id });
    expectProblem(await api("GET", "/v1/platform/events", { as: member.id, vars }), 404, "NOT_FOUND");
    expectProblem(
      await api("POST", `/v1/platform/events/${event?.event_id}/redeliver`, { as: member.id, vars }),
      404,
      "NOT_FOUND",
    );
    expectProblem(await api("GET", "/v1/platform/events", { as: member.id }), 404, "NOT_FOUND");
    expectProblem(await api("GET", "/v1/platform/events"), 401, "UNAUTHENTICATED");

    const counter = { trips: 0 };
    expectProblem(
      await api("POST", "/v1/platform/events/evt_unknown/redeliver", { as: operator.id, vars, counter }),
      404,
      "NOT_FOUND",
    );
    expect(counter.trips).toBe(1);
  });

  it("redeliver without EVENTS_WEBHOOK_URL is 409 EVENTS_DISABLED and changes nothing", async () => {
    const operator = await seedUser();
    const owner = await seedUser();
    const org = await api("POST", "/v1/organizations", { as: owner.id, body: { name: "No URL Co" } });
    const [event] = await eventsOf(org.body.id);
    const res = await api("POST", `/v1/platform/events/${event?.event_id}/redeliver`, {
      as: operator.id,
      vars: { PLATFORM_ADMIN_USER_IDS: operator.id },
    });
    expectProblem(res, 409, "EVENTS_DISABLED");
    expect((await eventsOf(org.body.id))[0]?.status).toBe("pending");
  });
});
