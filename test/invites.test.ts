import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectProblem, seedOrg, seedProject, seedUser } from "./helpers";
import { api, auditRows, barrier, invite, inviteRow, seedInvite, spyQueue } from "./invite-helpers";

const mail = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}@example.com`;

describe("POST /v1/organizations/{orgId}/invites", () => {
  it("invites addresses, one result per distinct address in request order, and queues one email each", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const a = mail("a");
    const b = mail("b");
    const queue = spyQueue();
    const res = await api("POST", `/v1/organizations/${org.id}/invites`, {
      as: owner.id,
      // Case and whitespace variants of the same address collapse to its canonical form.
      body: { emails: [a, `  ${b.toUpperCase()} `, a.toUpperCase()], role: "manager" },
      queue,
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.results.map((r: any) => [r.email, r.outcome])).toEqual([
      [a, "invited"],
      [b, "invited"],
    ]);
    const inv = res.body.results[0].invite;
    expect(inv).toMatchObject({
      kind: "organization",
      organizationId: org.id,
      projectId: null,
      email: a,
      role: "manager",
      projectRole: null,
      status: "pending",
      invitedBy: { userId: owner.id },
      acceptedAt: null,
      delivery: { status: "queued", attempts: 0, lastError: null, sentAt: null },
    });
    expect(inv.id).toMatch(/^inv_/);
    expect(Date.parse(inv.expiresAt) - Date.parse(inv.createdAt)).toBe(7 * 86_400_000);
    expect(queue.messages).toHaveLength(2);
    expect(queue.messages[0]).toMatchObject({ type: "invite", inviteId: inv.id, tokenVersion: 1 });
    expect(queue.messages[0]?.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const created = await auditRows(org.id, "invite.created");
    expect(created.map((e) => e.target_id).sort()).toEqual(res.body.results.map((r: any) => r.invite.id).sort());
    expect(created[0].actor_id).toBe(owner.id);
  });

  it("defaults the role to member", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const { res } = await invite(owner.id, { orgId: org.id }, [mail("d")]);
    expect(res.body.results[0].invite.role).toBe("member");
  });

  it("reports members (by verified address) as already_member and pending invites as already_invited, unchanged", async () => {
    const owner = await seedUser();
    const memberAlt = mail("second");
    const member = await seedUser({ emails: [{ email: memberAlt, verified: true }] });
    const org = await seedOrg(owner.id, { members: [{ id: member.id, role: "member" }] });
    const pendingEmail = mail("pending");
    const first = await invite(owner.id, { orgId: org.id }, [pendingEmail]);
    const firstInvite = first.res.body.results[0].invite;

    const queue = spyQueue();
    const res = await api("POST", `/v1/organizations/${org.id}/invites`, {
      as: owner.id,
      body: { emails: [member.email, memberAlt, pendingEmail], role: "director" },
      queue,
    });
    expect(res.status).toBe(201);
    expect(res.body.results).toEqual([
      { email: member.email, outcome: "already_member", invite: null },
      { email: memberAlt, outcome: "already_member", invite: null },
      { email: pendingEmail, outcome: "already_invited", invite: firstInvite },
    ]);
    expect(queue.messages).toEqual([]);
    const row = await inviteRow(firstInvite.id);
    expect(row.role).toBe("member");
    expect(row.token_version).toBe(1);
  });

  it("an unverified address of a member does not count as membership", async () => {
    const owner = await seedUser();
    const unverified = mail("unverified");
    const member = await seedUser({ emails: [{ email: unverified, verified: false }] });
    const org = await seedOrg(owner.id, { members: [{ id: member.id, role: "member" }] });
    const { res } = await invite(owner.id, { orgId: org.id }, [unverified]);
    expect(res.body.results[0].outcome).toBe("invited");
  });

  it("a pending invite already past its expiry is expired first (audited) and a new one is created", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const email = mail("stale");
    const stale = await seedInvite({ orgId: org.id, email, invitedBy: owner.id, expiresAt: Date.now() - 1000 });
    const { res } = await invite(owner.id, { orgId: org.id }, [email]);
    expect(res.body.results[0].outcome).toBe("invited");
    expect(res.body.results[0].invite.id).not.toBe(stale.id);
    expect((await inviteRow(stale.id)).status).toBe("expired");
    const expired = await auditRows(org.id, "invite.expired");
    expect(expired.map((e) => [e.target_id, e.actor_id])).toEqual([[stale.id, null]]);
  });

  it("a refused request (404, 403, ROLE_ABOVE_OWN, 429) writes nothing: no invite, no audit row, no counter, stale invites untouched", async () => {
    const owner = await seedUser();
    const manager = await seedUser();
    const member = await seedUser();
    const org = await seedOrg(owner.id, {
      members: [
        { id: manager.id, role: "manager" },
        { id: member.id, role: "member" },
      ],
    });
    const email = mail("refused");
    const stale = await seedInvite({ orgId: org.id, email, invitedBy: owner.id, expiresAt: Date.now() - 1000 });
    const snapshot = async () => ({
      invites: (await env.DB.prepare("SELECT * FROM invites WHERE organization_id = ? ORDER BY id").bind(org.id).all())
        .results,
      audit: await auditRows(org.id),
      counters: (
        await env.DB.prepare("SELECT key, count FROM rate_limits WHERE key IN (?, ?, ?) ORDER BY key")
          .bind(`invite:org:${org.id}`, `invite:user:${owner.id}`, `invite:user:${manager.id}`)
          .all()
      ).results,
    });
    const before = await snapshot();
    const path = `/v1/organizations/${org.id}/invites`;
    const body = { emails: [email, mail("other")] };
    expectProblem(await api("POST", path, { as: (await seedUser()).id, body }), 404, "NOT_FOUND");
    expectProblem(await api("POST", path, { as: member.id, body }), 403, "FORBIDDEN");
    expectProblem(
      await api("POST", path, { as: manager.id, body: { ...body, role: "director" } }),
      403,
      "ROLE_ABOVE_OWN",
    );
    const vars = { RATE_LIMIT_INVITES_PER_HOUR: "1" };
    expectProblem(await api("POST", path, { as: manager.id, body, vars }), 429, "RATE_LIMITED");
    const after = await snapshot();
    // A rate-limited request may expire the stale invite (it is past its expiry either way, and
    // the change is audited as the cron would); it creates and counts nothing.
    expect(after.counters).toEqual(before.counters);
    expect(after.audit.filter((a) => a.action !== "invite.expired")).toEqual(before.audit);
    expect(after.invites.filter((i: any) => i.id !== stale.id)).toEqual(
      before.invites.filter((i: any) => i.id !== stale.id),
    );
    expect(after.audit.filter((a) => a.action === "invite.expired")).toHaveLength(
      after.invites.filter((i: any) => i.status === "expired").length,
    );
  });

  it("a member (by verified address) with a pending invite is already_member; the invite stays as it is", async () => {
    const owner = await seedUser();
    const member = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: member.id, role: "member" }] });
    const pending = await seedInvite({ orgId: org.id, email: member.email, invitedBy: owner.id });
    const before = await inviteRow(pending.id);
    const { res } = await invite(owner.id, { orgId: org.id }, [member.email]);
    expect(res.body.results).toEqual([{ email: member.email, outcome: "already_member", invite: null }]);
    expect(await inviteRow(pending.id)).toEqual(before);
  });

  it.each([
    ["malformed", "not-an-email"],
    ["too long", `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.com`],
    ["CR/LF", "a@example.com\r\nBcc: x@example.com"],
    ["NUL", "a@exam\u0000ple.com"],
    ["a comma list", "a@x.com,b@y.com"],
    ["a display name", "Jane <jane@example.com>"],
  ])("an invalid address (%s) fails the whole request with 400 and creates nothing", async (_, bad) => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const good = mail("good");
    const queue = spyQueue();
    const res = await api("POST", `/v1/organizations/${org.id}/invites`, {
      as: owner.id,
      body: { emails: [good, bad] },
      queue,
    });
    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(res.body.errors[0].path).toBe("emails.1");
    const count = await env.DB.prepare("SELECT count(*) AS n FROM invites WHERE organization_id = ?")
      .bind(org.id)
      .first<{ n: number }>();
    expect(count?.n).toBe(0);
    expect(queue.calls).toEqual([]);
  });

  it("rejects an empty list, more than 50 addresses and unknown fields", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const path = `/v1/organizations/${org.id}/invites`;
    expectProblem(await api("POST", path, { as: owner.id, body: { emails: [] } }), 400, "VALIDATION_FAILED");
    const many = Array.from({ length: 51 }, (_, i) => `x${i}@example.com`);
    expectProblem(await api("POST", path, { as: owner.id, body: { emails: many } }), 400, "VALIDATION_FAILED");
    expectProblem(
      await api("POST", path, { as: owner.id, body: { emails: [mail("x")], extra: 1 } }),
      400,
      "VALIDATION_FAILED",
    );
    expectProblem(
      await api("POST", path, { as: owner.id, body: { emails: [mail("x")], role: "admin" } }),
      400,
      "VALIDATION_FAILED",
    );
  });

  it("requires a session", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    expectProblem(
      await api("POST", `/v1/organizations/${org.id}/invites`, { body: { emails: [mail("x")] } }),
      401,
      "UNAUTHENTICATED",
    );
  });

  it("creates 50 invites in one request in 1 D1 round trip (≤ 3), 1 invite likewise, no statement over 100 parameters", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    for (const n of [1, 50]) {
      const emails = Array.from({ length: n }, (_, i) => mail(`bulk${i}`));
      const counter = { trips: 0 };
      const queue = spyQueue();
      const res = await api("POST", `/v1/organizations/${org.id}/invites`, {
        as: owner.id,
        body: { emails },
        queue,
        counter,
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body.results.map((r: any) => r.email)).toEqual(emails);
      expect(res.body.results.every((r: any) => r.outcome === "invited")).toBe(true);
      expect(counter.trips).toBeLessThanOrEqual(3);
      expect(counter.trips).toBe(1);
      expect(queue.messages.map((m) => m.inviteId).sort()).toEqual(
        res.body.results.map((r: any) => r.invite.id).sort(),
      );
    }
  });

  it("10 concurrent identical requests create exactly one pending invite (the partial unique index)", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const email = mail("race");
    const queues = Array.from({ length: 10 }, () => spyQueue());
    const responses = await Promise.all(
      queues.map((queue) =>
        api("POST", `/v1/organizations/${org.id}/invites`, { as: owner.id, body: { emails: [email] }, queue }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    const outcomes = responses.map((r) => r.body.results[0].outcome);
    expect(outcomes.filter((o) => o === "invited")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "already_invited")).toHaveLength(9);
    const ids = new Set(responses.map((r) => r.body.results[0].invite.id));
    expect(ids.size).toBe(1);
    const rows = await env.DB.prepare("SELECT id FROM invites WHERE organization_id = ? AND email = ?")
      .bind(org.id, email)
      .all();
    expect(rows.results).toHaveLength(1);
    expect(queues.flatMap((q) => q.messages)).toHaveLength(1);
    expect(await auditRows(org.id, "invite.created")).toHaveLength(1);
  });

  it("in lockstep (all sent before any batch runs), 10 identical requests still make one invite", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const email = mail("lockstep");
    const writes = barrier(10);
    const queues = Array.from({ length: 10 }, () => spyQueue());
    const responses = await Promise.all(
      queues.map((queue) =>
        api("POST", `/v1/organizations/${org.id}/invites`, {
          as: owner.id,
          body: { emails: [email] },
          queue,
          // The one batch (index 0) waits until every request has reached it.
          counter: { trips: 0, beforeBatch: (i) => (i === 0 ? writes.wait() : Promise.resolve()) },
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(responses.filter((r) => r.body.results[0].outcome === "invited")).toHaveLength(1);
    expect(new Set(responses.map((r) => r.body.results[0].invite.id)).size).toBe(1);
    const rows = await env.DB.prepare("SELECT id FROM invites WHERE organization_id = ? AND email = ?")
      .bind(org.id, email)
      .all();
    expect(rows.results).toHaveLength(1);
    expect(queues.flatMap((q) => q.messages)).toHaveLength(1);
    expect(await auditRows(org.id, "invite.created")).toHaveLength(1);
  });

  it("when enqueueing fails the invites are still created, marked failed with 'enqueue failed', and 201", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const queue = spyQueue();
    queue.fail = true;
    const res = await api("POST", `/v1/organizations/${org.id}/invites`, {
      as: owner.id,
      body: { emails: [mail("f1"), mail("f2")] },
      queue,
    });
    expect(res.status).toBe(201);
    for (const r of res.body.results) {
      expect(r.invite.delivery).toEqual({ status: "failed", attempts: 0, lastError: "enqueue failed", sentAt: null });
      const row = await inviteRow(r.invite.id);
      expect([row.status, row.delivery_status, row.delivery_error]).toEqual(["pending", "failed", "enqueue failed"]);
    }
  });
});

describe("POST /v1/projects/{projectId}/invites", () => {
  it("invites to a project with project role and org role; defaults viewer / member", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const project = await seedProject(org.id, [{ id: owner.id, role: "admin" }]);
    const { res } = await invite(owner.id, { projectId: project.id }, [mail("p1")], {
      role: "editor",
      orgRole: "guest",
    });
    expect(res.body.results[0].invite).toMatchObject({
      kind: "project",
      organizationId: org.id,
      projectId: project.id,
      role: "guest",
      projectRole: "editor",
    });
    const defaults = await invite(owner.id, { projectId: project.id }, [mail("p2")]);
    expect(defaults.res.body.results[0].invite).toMatchObject({ role: "member", projectRole: "viewer" });
  });

  it("already_member means a member of the project: an org member outside the project is invited", async () => {
    const owner = await seedUser();
    const inProject = await seedUser();
    const orgOnly = await seedUser();
    const org = await seedOrg(owner.id, {
      members: [
        { id: inProject.id, role: "member" },
        { id: orgOnly.id, role: "member" },
      ],
    });
    const project = await seedProject(org.id, [{ id: inProject.id, role: "viewer" }]);
    const { res } = await invite(owner.id, { projectId: project.id }, [inProject.email, orgOnly.email]);
    expect(res.body.results.map((r: any) => r.outcome)).toEqual(["already_member", "invited"]);
  });

  it("an org invite and a project invite for the same address are separate scopes", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const project = await seedProject(org.id);
    const email = mail("both");
    const a = await invite(owner.id, { orgId: org.id }, [email]);
    const b = await invite(owner.id, { projectId: project.id }, [email]);
    expect(a.res.body.results[0].outcome).toBe("invited");
    expect(b.res.body.results[0].outcome).toBe("invited");
  });

  it("a project admin who is a plain org member may invite to their project", async () => {
    const owner = await seedUser();
    const admin = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: admin.id, role: "member" }] });
    const project = await seedProject(org.id, [{ id: admin.id, role: "admin" }]);
    const { res } = await invite(admin.id, { projectId: project.id }, [mail("pa")], { role: "admin" });
    expect(res.body.results[0].invite).toMatchObject({ role: "member", projectRole: "admin" });
  });

  it("a project admin cannot invite at an org role above their own (ROLE_ABOVE_OWN)", async () => {
    const owner = await seedUser();
    const admin = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: admin.id, role: "member" }] });
    const project = await seedProject(org.id, [{ id: admin.id, role: "admin" }]);
    for (const orgRole of ["manager", "director", "owner"]) {
      expectProblem(
        await api("POST", `/v1/projects/${project.id}/invites`, {
          as: admin.id,
          body: { emails: [mail("up")], orgRole },
        }),
        403,
        "ROLE_ABOVE_OWN",
      );
    }
  });

  it("project editors/viewers without members:invite get 403; non-members and unrelated members get 404", async () => {
    const owner = await seedUser();
    const editor = await seedUser();
    const outsider = await seedUser();
    const memberNotInProject = await seedUser();
    const org = await seedOrg(owner.id, {
      members: [
        { id: editor.id, role: "member" },
        { id: memberNotInProject.id, role: "member" },
      ],
    });
    const project = await seedProject(org.id, [{ id: editor.id, role: "editor" }]);
    const path = `/v1/projects/${project.id}/invites`;
    const body = { emails: [mail("z")] };
    expectProblem(await api("POST", path, { as: editor.id, body }), 403, "FORBIDDEN");
    expectProblem(await api("POST", path, { as: outsider.id, body }), 404, "NOT_FOUND");
    expectProblem(await api("POST", path, { as: memberNotInProject.id, body }), 404, "NOT_FOUND");
    expectProblem(await api("POST", "/v1/projects/prj_nope/invites", { as: owner.id, body }), 404, "NOT_FOUND");
  });
});

describe("role escalation through invites", () => {
  it("org invites: members and guests lack members:invite (403), non-members get 404", async () => {
    const owner = await seedUser();
    const member = await seedUser();
    const guest = await seedUser();
    const outsider = await seedUser();
    const org = await seedOrg(owner.id, {
      members: [
        { id: member.id, role: "member" },
        { id: guest.id, role: "guest" },
      ],
    });
    const path = `/v1/organizations/${org.id}/invites`;
    const body = { emails: [mail("e")], role: "guest" };
    expectProblem(await api("POST", path, { as: member.id, body }), 403, "FORBIDDEN");
    expectProblem(await api("POST", path, { as: guest.id, body }), 403, "FORBIDDEN");
    expectProblem(await api("POST", path, { as: outsider.id, body }), 404, "NOT_FOUND");
  });

  it("nobody invites above their own rank; each inviter may invite at their own rank; only owners invite owners", async () => {
    const owner = await seedUser();
    const director = await seedUser();
    const manager = await seedUser();
    const org = await seedOrg(owner.id, {
      members: [
        { id: director.id, role: "director" },
        { id: manager.id, role: "manager" },
      ],
    });
    const path = `/v1/organizations/${org.id}/invites`;
    const cases: [string, string, number][] = [
      [manager.id, "director", 403],
      [manager.id, "owner", 403],
      [manager.id, "manager", 201],
      [director.id, "owner", 403],
      [director.id, "director", 201],
      [owner.id, "owner", 201],
    ];
    for (const [as, role, status] of cases) {
      const res = await api("POST", path, { as, body: { emails: [mail("esc")], role } });
      if (status === 403) expectProblem(res, 403, "ROLE_ABOVE_OWN");
      else expect(res.status, `${as} inviting ${role}`).toBe(201);
    }
  });

  it("project invites: the orgRole obeys the same rank rule for org managers", async () => {
    const owner = await seedUser();
    const manager = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: manager.id, role: "manager" }] });
    const project = await seedProject(org.id);
    const path = `/v1/projects/${project.id}/invites`;
    expectProblem(
      await api("POST", path, { as: manager.id, body: { emails: [mail("pr")], orgRole: "director" } }),
      403,
      "ROLE_ABOVE_OWN",
    );
    expect(
      (await api("POST", path, { as: manager.id, body: { emails: [mail("pr")], orgRole: "manager", role: "admin" } }))
        .status,
    ).toBe(201);
  });
});

describe("OpenAPI", () => {
  it("documents every invitation and audit endpoint with its method", async () => {
    const res = await api("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const methods = (path: string) => Object.keys(res.body.paths[path] ?? {}).sort();
    expect(methods("/v1/organizations/{orgId}/invites")).toEqual(expect.arrayContaining(["get", "post"]));
    expect(methods("/v1/projects/{projectId}/invites")).toEqual(expect.arrayContaining(["get", "post"]));
    expect(methods("/v1/invites/{inviteId}/resend")).toEqual(["post"]);
    expect(methods("/v1/invites/{inviteId}")).toEqual(["delete"]);
    expect(methods("/v1/invites/preview")).toEqual(["post"]);
    expect(methods("/v1/invites/accept")).toEqual(["post"]);
    expect(methods("/v1/invites/{inviteId}/accept")).toEqual(["post"]);
    expect(methods("/v1/invites/{inviteId}/decline")).toEqual(["post"]);
    expect(methods("/v1/me/invites")).toEqual(["get"]);
    expect(methods("/v1/organizations/{orgId}/audit-events")).toEqual(["get"]);
    const create = res.body.paths["/v1/organizations/{orgId}/invites"].post;
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "403", "404", "429"]));
  });
});
