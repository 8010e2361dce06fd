import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectProblem, seedOrg, seedProject, seedUser } from "./helpers";
import { api, invite } from "./invite-helpers";

async function seedEvents(orgId: string, n: number, at: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `evt_test_${crypto.randomUUID().slice(0, 8)}_${i}`);
  await env.DB.batch(
    ids.map((id, i) =>
      env.DB.prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         VALUES (?, ?, NULL, 'invite.expired', 'invite', ?, '{"n":' || ? || '}', ?)`,
      ).bind(id, orgId, `inv_${i}`, i, at + i),
    ),
  );
  return ids;
}

describe("GET /v1/organizations/{orgId}/audit-events", () => {
  it("the invite lifecycle is audited: created, resent, revoked, accepted, declined (+ member.added)", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const project = await seedProject(org.id);
    const joiner = await seedUser();
    const decliner = await seedUser();
    const dropped = `dropped-${crypto.randomUUID().slice(0, 6)}@example.com`;
    const { tokens, ids } = await invite(owner.id, { projectId: project.id }, [joiner.email, decliner.email, dropped], {
      role: "editor",
    });
    expect((await api("POST", `/v1/invites/${ids.get(joiner.email)}/resend`, { as: owner.id })).status).toBe(200);
    expect((await api("DELETE", `/v1/invites/${ids.get(dropped)}`, { as: owner.id })).status).toBe(204);
    expect((await api("POST", `/v1/invites/${ids.get(joiner.email)}/accept`, { as: joiner.id })).status).toBe(200);
    expect((await api("POST", `/v1/invites/${ids.get(decliner.email)}/decline`, { as: decliner.id })).status).toBe(204);
    expect(tokens.size).toBe(3);

    const res = await api("GET", `/v1/organizations/${org.id}/audit-events?limit=100`, { as: owner.id });
    expect(res.status).toBe(200);
    const events = res.body.data as any[];
    const summary = events.map((e) => [e.action, e.actor?.userId ?? null, e.target.type, e.target.id]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ["invite.created", owner.id, "invite", ids.get(joiner.email)],
        ["invite.created", owner.id, "invite", ids.get(decliner.email)],
        ["invite.created", owner.id, "invite", ids.get(dropped)],
        ["invite.resent", owner.id, "invite", ids.get(joiner.email)],
        ["invite.revoked", owner.id, "invite", ids.get(dropped)],
        ["invite.accepted", joiner.id, "invite", ids.get(joiner.email)],
        ["member.added", joiner.id, "member", joiner.id],
        ["project_member.added", joiner.id, "project_member", joiner.id],
        ["invite.declined", decliner.id, "invite", ids.get(decliner.email)],
      ]),
    );
    expect(events).toHaveLength(9);
    const created = events.find((e) => e.action === "invite.created" && e.target.id === ids.get(dropped));
    expect(created.data).toMatchObject({
      email: dropped,
      role: "member",
      projectId: project.id,
      projectRole: "editor",
    });
    expect(created.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(created.id).toMatch(/^evt_/);
    // Newest first.
    const times = events.map((e) => Date.parse(e.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("newest first with keyset pagination, one round trip, only this organization's events", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const otherOrg = await seedOrg(owner.id);
    const t = Date.now() - 60_000;
    const ids = await seedEvents(org.id, 5, t);
    await seedEvents(otherOrg.id, 3, t);
    const counter = { trips: 0 };
    const page1 = await api("GET", `/v1/organizations/${org.id}/audit-events?limit=2`, { as: owner.id, counter });
    expect(counter.trips).toBe(1);
    expect(page1.body.data.map((e: any) => e.id)).toEqual([ids[4], ids[3]]);
    expect(page1.body.data[0]).toEqual({
      id: ids[4],
      action: "invite.expired",
      actor: null,
      target: { type: "invite", id: "inv_4" },
      data: { n: 4 },
      createdAt: new Date(t + 4).toISOString(),
    });
    const seen = [...page1.body.data.map((e: any) => e.id)];
    let cursor = page1.body.nextCursor;
    while (cursor) {
      const next = await api("GET", `/v1/organizations/${org.id}/audit-events?limit=2&cursor=${cursor}`, {
        as: owner.id,
      });
      seen.push(...next.body.data.map((e: any) => e.id));
      cursor = next.body.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    expectProblem(
      await api("GET", `/v1/organizations/${org.id}/audit-events?cursor=not-a-cursor`, { as: owner.id }),
      400,
      "VALIDATION_FAILED",
    );
  });

  it("audit:read: owners and directors; managers, members and guests 403; non-members 404; no session 401", async () => {
    const owner = await seedUser();
    const users = {
      director: await seedUser(),
      manager: await seedUser(),
      member: await seedUser(),
      guest: await seedUser(),
    };
    const org = await seedOrg(owner.id, {
      members: Object.entries(users).map(([role, u]) => ({ id: u.id, role: role as "director" })),
    });
    const path = `/v1/organizations/${org.id}/audit-events`;
    expect((await api("GET", path, { as: owner.id })).status).toBe(200);
    expect((await api("GET", path, { as: users.director.id })).status).toBe(200);
    for (const u of [users.manager, users.member, users.guest]) {
      expectProblem(await api("GET", path, { as: u.id }), 403, "FORBIDDEN");
    }
    expectProblem(await api("GET", path, { as: (await seedUser()).id }), 404, "NOT_FOUND");
    expectProblem(await api("GET", "/v1/organizations/org_missing/audit-events", { as: owner.id }), 404, "NOT_FOUND");
    expectProblem(await api("GET", path), 401, "UNAUTHENTICATED");
  });
});
