import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectProblem, seedOrg, seedUser, tick, uid } from "./helpers";
import { api } from "./invite-helpers";
import { accessOf, activeCount, seedUserWith } from "./platform-helpers";

describe("operators", () => {
  it("every operator endpoint is 404 to a non-operator, and one round trip for an operator", async () => {
    const operator = await seedUser();
    const someone = await seedUser();
    const waiting = await seedUserWith("waitlisted");
    const org = await seedOrg(someone.id);
    const vars = { PLATFORM_ADMIN_USER_IDS: operator.id };
    const calls: [string, string, unknown?][] = [
      ["GET", "/v1/platform"],
      ["GET", "/v1/platform/waitlist"],
      ["POST", `/v1/platform/waitlist/${waiting.id}/admit`],
      ["GET", "/v1/platform/organizations?ownerless=true"],
      ["POST", `/v1/platform/organizations/${org.id}/owner`, { userId: someone.id }],
    ];
    for (const [method, path, body] of calls) {
      expectProblem(await api(method, path, { as: someone.id, body, vars }), 404, "NOT_FOUND");
    }
    expect(await accessOf(waiting.id)).toBe("waitlisted");
    for (const [method, path, body] of calls) {
      const counter = { trips: 0 };
      const res = await api(method, path, { as: operator.id, body, vars, counter });
      expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(500);
      expect(counter.trips, `${method} ${path}`).toBe(1);
    }
  });

  it("shows the figures and the waitlist, and admits from it with a user.admitted event", async () => {
    const operator = await seedUser();
    const waiting = await seedUserWith("waitlisted");
    const vars = { PLATFORM_ADMIN_USER_IDS: operator.id, SIGNUP_MODE: "invite_only", SIGNUP_CAP: "100000" };
    const figures = await api("GET", "/v1/platform", { as: operator.id, vars });
    expect(figures.status).toBe(200);
    expect(figures.body).toMatchObject({ signupMode: "invite_only", cap: 100000 });
    expect(figures.body.waitlisted).toBeGreaterThanOrEqual(1);
    expect(figures.body.active).toBe(await activeCount());
    const list: { userId: string; email: string | null }[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api("GET", `/v1/platform/waitlist?limit=100${cursor ? `&cursor=${cursor}` : ""}`, {
        as: operator.id,
        vars,
      });
      list.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(list.find((e) => e.userId === waiting.id)).toMatchObject({ email: waiting.email });

    const admitted = await api("POST", `/v1/platform/waitlist/${waiting.id}/admit`, { as: operator.id, vars });
    expect(admitted.status, admitted.text).toBe(200);
    expect(admitted.body).toEqual({ userId: waiting.id, access: "active" });
    expect(await accessOf(waiting.id)).toBe("active");
    // Again: still admitted, no second event.
    expect((await api("POST", `/v1/platform/waitlist/${waiting.id}/admit`, { as: operator.id, vars })).status).toBe(
      200,
    );
    const events = await env.DB.prepare(
      "SELECT organization_id, actor_id, data FROM audit_events WHERE action = 'user.admitted' AND target_id = ?",
    )
      .bind(waiting.id)
      .all<{ organization_id: string | null; actor_id: string; data: string }>();
    expect(events.results).toEqual([{ organization_id: null, actor_id: operator.id, data: '{"via":"operator"}' }]);
    expectProblem(
      await api("POST", "/v1/platform/waitlist/user_nobody/admit", { as: operator.id, vars }),
      404,
      "NOT_FOUND",
    );
  });

  it("the cap is exact: 50 concurrent admissions with 10 seats left admit exactly 10, the rest 409", async () => {
    const operator = await seedUser();
    const waiting = await Promise.all(Array.from({ length: 50 }, () => seedUserWith("waitlisted")));
    const cap = (await activeCount()) + 10;
    const vars = { PLATFORM_ADMIN_USER_IDS: operator.id, SIGNUP_CAP: String(cap) };
    const results = await Promise.all(
      waiting.map((u) => api("POST", `/v1/platform/waitlist/${u.id}/admit`, { as: operator.id, vars })),
    );
    const admitted = results.filter((r) => r.status === 200);
    expect(admitted).toHaveLength(10);
    for (const r of results.filter((r) => r.status !== 200)) expectProblem(r, 409, "SIGNUP_CAP_REACHED");
    expect(await activeCount()).toBe(cap);
    const states = await Promise.all(waiting.map((u) => accessOf(u.id)));
    expect(states.filter((s) => s === "active")).toHaveLength(10);
    // Nothing else changed for the refused: no admission event, no admitted_at.
    const events = await env.DB.prepare(
      `SELECT count(*) AS n FROM audit_events WHERE action = 'user.admitted'
       AND target_id IN (SELECT value FROM json_each(?))`,
    )
      .bind(JSON.stringify(waiting.map((u) => u.id)))
      .first("n");
    expect(events).toBe(10);
  });
});

describe("ownerless organizations", () => {
  it("a legacy organization no admin pointed at is listed and gets its owner; a second owner is 409", async () => {
    const operator = await seedUser();
    const newOwner = await seedUser();
    const vars = { PLATFORM_ADMIN_USER_IDS: operator.id };
    // Legacy-shaped: an organization row with its legacy id and no organization_users row at all.
    const legacyId = String(Math.floor(Math.random() * 1e9));
    const at = tick();
    await env.DB.prepare("INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
      .bind(legacyId, "Legacy Co", `legacy-${legacyId}`, at, at)
      .run();
    const owned = await seedOrg(newOwner.id);

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api(
        "GET",
        `/v1/platform/organizations?ownerless=true&limit=100${cursor ? `&cursor=${cursor}` : ""}`,
        { as: operator.id, vars },
      );
      expect(page.status, page.text).toBe(200);
      ids.push(...page.body.data.map((o: { id: string }) => o.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(ids).toContain(legacyId);
    expect(ids).not.toContain(owned.id);

    const res = await api("POST", `/v1/platform/organizations/${legacyId}/owner`, {
      as: operator.id,
      body: { userId: newOwner.id },
      vars,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ userId: newOwner.id, email: newOwner.email, role: "owner" });
    const org = await api("GET", `/v1/organizations/${legacyId}`, { as: newOwner.id });
    expect(org.body).toMatchObject({ id: legacyId, role: "owner" });
    expectProblem(
      await api("POST", `/v1/platform/organizations/${legacyId}/owner`, {
        as: operator.id,
        body: { userId: operator.id },
        vars,
      }),
      409,
      "CONFLICT",
    );
    expectProblem(
      await api("POST", `/v1/platform/organizations/${uid("org")}/owner`, {
        as: operator.id,
        body: { userId: newOwner.id },
        vars,
      }),
      404,
      "NOT_FOUND",
    );
  });
});
