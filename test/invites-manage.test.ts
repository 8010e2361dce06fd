import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectProblem, seedOrg, seedProject, seedUser } from "./helpers";
import { api, auditRows, invite, inviteRow, seedInvite, spyQueue, type TripCounter } from "./invite-helpers";

const mail = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}@example.com`;

describe("GET /v1/organizations/{orgId}/invites", () => {
  it("lists the org's pending org and project invites, newest first, with keyset pagination, in one round trip", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const project = await seedProject(org.id);
    const t = Date.now();
    const a = await seedInvite({ orgId: org.id, email: mail("a"), invitedBy: owner.id, createdAt: t - 40 });
    const b = await seedInvite({
      orgId: org.id,
      projectId: project.id,
      email: mail("b"),
      invitedBy: owner.id,
      createdAt: t - 30,
    });
    const c = await seedInvite({ orgId: org.id, email: mail("c"), invitedBy: owner.id, createdAt: t - 20 });
    await seedInvite({ orgId: org.id, email: mail("acc"), invitedBy: owner.id, status: "accepted" });
    await seedInvite({ orgId: (await seedOrg(owner.id)).id, email: mail("other-org"), invitedBy: owner.id });

    const counter = { trips: 0 };
    const page1 = await api("GET", `/v1/organizations/${org.id}/invites?limit=2`, { as: owner.id, counter });
    expect(page1.status).toBe(200);
    expect(counter.trips).toBe(1);
    expect(page1.body.data.map((i: any) => i.id)).toEqual([c.id, b.id]);
    expect(page1.body.data[1]).toMatchObject({ kind: "project", projectId: project.id, status: "pending" });
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await api(
      "GET",
      `/v1/organizations/${org.id}/invites?limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`,
      { as: owner.id },
    );
    expect(page2.body.data.map((i: any) => i.id)).toEqual([a.id]);
    expect(page2.body.nextCursor).toBeNull();
  });

  it("filters by status; 'expired' includes pending invites past their expiry, 'pending' excludes them", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const ids: Record<string, string> = {};
    for (const status of ["pending", "accepted", "declined", "revoked", "expired"] as const) {
      ids[status] = (await seedInvite({ orgId: org.id, email: mail(status), invitedBy: owner.id, status })).id;
    }
    const overdue = await seedInvite({
      orgId: org.id,
      email: mail("overdue"),
      invitedBy: owner.id,
      expiresAt: Date.now() - 1,
    });
    const list = async (status: string) =>
      (await api("GET", `/v1/organizations/${org.id}/invites?status=${status}`, { as: owner.id })).body.data.map(
        (i: any) => [i.id, i.status],
      );
    expect(await list("pending")).toEqual([[ids.pending, "pending"]]);
    expect(await list("accepted")).toEqual([[ids.accepted, "accepted"]]);
    expect(await list("declined")).toEqual([[ids.declined, "declined"]]);
    expect(await list("revoked")).toEqual([[ids.revoked, "revoked"]]);
    expect((await list("expired")).sort()).toEqual(
      [
        [ids.expired, "expired"],
        [overdue.id, "expired"],
      ].sort(),
    );
    expectProblem(
      await api("GET", `/v1/organizations/${org.id}/invites?status=nope`, { as: owner.id }),
      400,
      "VALIDATION_FAILED",
    );
    expectProblem(
      await api("GET", `/v1/organizations/${org.id}/invites?limit=0`, { as: owner.id }),
      400,
      "VALIDATION_FAILED",
    );
    expectProblem(
      await api("GET", `/v1/organizations/${org.id}/invites?limit=101`, { as: owner.id }),
      400,
      "VALIDATION_FAILED",
    );
  });

  it("shows delivery state from the invite row", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const inv = await seedInvite({ orgId: org.id, email: mail("d"), invitedBy: owner.id });
    const sentAt = Date.UTC(2026, 10, 21, 10);
    await env.DB.prepare(
      "UPDATE invites SET delivery_status = 'failed', delivery_attempts = 3, delivery_error = 'SMTP 550', delivery_sent_at = ? WHERE id = ?",
    )
      .bind(sentAt, inv.id)
      .run();
    const res = await api("GET", `/v1/organizations/${org.id}/invites`, { as: owner.id });
    expect(res.body.data[0].delivery).toEqual({
      status: "failed",
      attempts: 3,
      lastError: "SMTP 550",
      sentAt: new Date(sentAt).toISOString(),
    });
  });

  it("invites:read: managers and up; members 403; non-members and other orgs 404", async () => {
    const owner = await seedUser();
    const manager = await seedUser();
    const member = await seedUser();
    const outsider = await seedUser();
    const org = await seedOrg(owner.id, {
      members: [
        { id: manager.id, role: "manager" },
        { id: member.id, role: "member" },
      ],
    });
    const otherOrg = await seedOrg(outsider.id);
    const path = `/v1/organizations/${org.id}/invites`;
    expect((await api("GET", path, { as: manager.id })).status).toBe(200);
    expectProblem(await api("GET", path, { as: member.id }), 403, "FORBIDDEN");
    expectProblem(await api("GET", path, { as: outsider.id }), 404, "NOT_FOUND");
    expectProblem(await api("GET", `/v1/organizations/${otherOrg.id}/invites`, { as: owner.id }), 404, "NOT_FOUND");
    expectProblem(await api("GET", path), 401, "UNAUTHENTICATED");
  });
});

describe("GET /v1/projects/{projectId}/invites", () => {
  it("lists only that project's invites, for project admins and org managers; others 403/404", async () => {
    const owner = await seedUser();
    const projectAdmin = await seedUser();
    const viewer = await seedUser();
    const plainMember = await seedUser();
    const org = await seedOrg(owner.id, {
      members: [
        { id: projectAdmin.id, role: "member" },
        { id: viewer.id, role: "member" },
        { id: plainMember.id, role: "member" },
      ],
    });
    const project = await seedProject(org.id, [
      { id: projectAdmin.id, role: "admin" },
      { id: viewer.id, role: "viewer" },
    ]);
    const otherProject = await seedProject(org.id);
    const mine = await seedInvite({ orgId: org.id, projectId: project.id, email: mail("p"), invitedBy: owner.id });
    await seedInvite({ orgId: org.id, projectId: otherProject.id, email: mail("q"), invitedBy: owner.id });
    await seedInvite({ orgId: org.id, email: mail("r"), invitedBy: owner.id });
    const path = `/v1/projects/${project.id}/invites`;
    for (const as of [projectAdmin.id, owner.id]) {
      const res = await api("GET", path, { as });
      expect(res.status).toBe(200);
      expect(res.body.data.map((i: any) => i.id)).toEqual([mine.id]);
    }
    expectProblem(await api("GET", path, { as: viewer.id }), 403, "FORBIDDEN");
    expectProblem(await api("GET", path, { as: plainMember.id }), 404, "NOT_FOUND");
    expectProblem(await api("GET", path, { as: (await seedUser()).id }), 404, "NOT_FOUND");
  });
});

describe("POST /v1/invites/{inviteId}/resend", () => {
  it("rotates the token (the old link dies), bumps token_version, restarts expiry, requeues, audits; one round trip", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const invitee = await seedUser();
    const created = await invite(owner.id, { orgId: org.id }, [invitee.email]);
    const id = created.ids.get(invitee.email) as string;
    const oldToken = created.tokens.get(invitee.email) as string;
    const oldRow = await inviteRow(id);
    await env.DB.prepare(
      "UPDATE invites SET delivery_status = 'sent', delivery_attempts = 1, delivery_sent_at = 1, expires_at = expires_at - 86400000 WHERE id = ?",
    )
      .bind(id)
      .run();

    const queue = spyQueue();
    const counter = { trips: 0 };
    const res = await api("POST", `/v1/invites/${id}/resend`, { as: owner.id, queue, counter });
    expect(res.status, res.text).toBe(200);
    expect(counter.trips).toBe(1);
    // The answer is the invite exactly as stored (as the list reads it back).
    const listed = await api("GET", `/v1/organizations/${org.id}/invites`, { as: owner.id });
    expect(listed.body.data.find((i: any) => i.id === id)).toEqual(res.body);
    expect(res.body).toMatchObject({
      id,
      status: "pending",
      delivery: { status: "queued", attempts: 0, lastError: null, sentAt: null },
    });
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(oldRow.expires_at);
    const row = await inviteRow(id);
    expect(row.token_version).toBe(2);
    expect(row.token_hash).not.toBe(oldRow.token_hash);
    expect(queue.messages).toEqual([{ type: "invite", inviteId: id, tokenVersion: 2, token: expect.any(String) }]);
    const newToken = queue.messages[0]?.token as string;
    expect(newToken).not.toBe(oldToken);

    expectProblem(await api("POST", "/v1/invites/preview", { body: { token: oldToken } }), 404, "INVITE_NOT_FOUND");
    expectProblem(
      await api("POST", "/v1/invites/accept", { as: invitee.id, body: { token: oldToken } }),
      404,
      "INVITE_NOT_FOUND",
    );
    expect((await api("POST", "/v1/invites/accept", { as: invitee.id, body: { token: newToken } })).status).toBe(200);
    const resent = await auditRows(org.id, "invite.resent");
    expect(resent.map((a) => [a.actor_id, a.target_id, JSON.parse(a.data).tokenVersion])).toEqual([[owner.id, id, 2]]);
  });

  it("an expired invite becomes pending again (marked expired, or only past its expiry)", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    for (const seeded of [{ status: "expired" as const }, { expiresAt: Date.now() - 1 }]) {
      const inv = await seedInvite({ orgId: org.id, email: mail("exp"), invitedBy: owner.id, ...seeded });
      const res = await api("POST", `/v1/invites/${inv.id}/resend`, { as: owner.id });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe("pending");
      expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
      expect((await inviteRow(inv.id)).status).toBe("pending");
    }
  });

  it("an expired invite whose address has another pending invite in the scope → 409 INVITE_ALREADY_PENDING", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const email = mail("dup");
    const old = await seedInvite({ orgId: org.id, email, invitedBy: owner.id, status: "expired" });
    await seedInvite({ orgId: org.id, email, invitedBy: owner.id });
    const before = await inviteRow(old.id);
    expectProblem(await api("POST", `/v1/invites/${old.id}/resend`, { as: owner.id }), 409, "INVITE_ALREADY_PENDING");
    expect(await inviteRow(old.id)).toEqual(before);
  });

  it("accepted → 409 INVITE_ALREADY_ACCEPTED; declined → 410 INVITE_DECLINED; revoked → 410 INVITE_REVOKED", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const cases = [
      ["accepted", 409, "INVITE_ALREADY_ACCEPTED"],
      ["declined", 410, "INVITE_DECLINED"],
      ["revoked", 410, "INVITE_REVOKED"],
    ] as const;
    for (const [status, code, name] of cases) {
      const inv = await seedInvite({ orgId: org.id, email: mail(status), invitedBy: owner.id, status });
      const before = await inviteRow(inv.id);
      const queue = spyQueue();
      expectProblem(await api("POST", `/v1/invites/${inv.id}/resend`, { as: owner.id, queue }), code, name);
      expect(await inviteRow(inv.id)).toEqual(before);
      expect(queue.calls).toEqual([]);
    }
  });

  it("resending re-grants the invite's role: a manager cannot resend a director invite (ROLE_ABOVE_OWN)", async () => {
    const owner = await seedUser();
    const manager = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: manager.id, role: "manager" }] });
    const inv = await seedInvite({ orgId: org.id, email: mail("dir"), invitedBy: owner.id, role: "director" });
    expectProblem(await api("POST", `/v1/invites/${inv.id}/resend`, { as: manager.id }), 403, "ROLE_ABOVE_OWN");
    expect((await inviteRow(inv.id)).token_version).toBe(1);
  });

  it("a refused resend (404, 403, 429) writes nothing: the invite, its audit trail and the rate counters are unchanged", async () => {
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
    // The invite is expired, and a stale pending one exists for the same address: a successful
    // resend would expire the stale one; a refused one must not touch it.
    const target = await seedInvite({ orgId: org.id, email, invitedBy: owner.id, role: "director", status: "expired" });
    const stale = await seedInvite({ orgId: org.id, email, invitedBy: owner.id, expiresAt: Date.now() - 1000 });
    const snapshot = async () => ({
      target: await inviteRow(target.id),
      stale: await inviteRow(stale.id),
      audit: await auditRows(org.id),
      counters: (
        await env.DB.prepare("SELECT key, count FROM rate_limits WHERE key IN (?, ?, ?, ?) ORDER BY key")
          .bind(
            `invite:org:${org.id}`,
            `invite:user:${owner.id}`,
            `invite:user:${manager.id}`,
            `invite:user:${member.id}`,
          )
          .all()
      ).results,
    });
    // The owner has used up this hour (limit 1).
    await env.DB.prepare("INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)")
      .bind(`invite:user:${owner.id}`, Math.floor(Date.now() / 3_600_000) * 3_600_000)
      .run();
    const before = await snapshot();
    const path = `/v1/invites/${target.id}/resend`;
    expectProblem(await api("POST", path, { as: member.id }), 404, "INVITE_NOT_FOUND");
    expectProblem(await api("POST", path, { as: (await seedUser()).id }), 404, "INVITE_NOT_FOUND");
    expectProblem(await api("POST", path, { as: manager.id }), 403, "ROLE_ABOVE_OWN");
    const limited = await api("POST", path, { as: owner.id, vars: { RATE_LIMIT_INVITES_PER_HOUR: "1" } });
    expectProblem(limited, 429, "RATE_LIMITED");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await snapshot()).toEqual(before);
    // Allowed: the stale one is expired (audited) and the target is pending again.
    expect((await api("POST", path, { as: owner.id })).status).toBe(200);
    expect((await inviteRow(stale.id)).status).toBe("expired");
    expect((await inviteRow(target.id)).status).toBe("pending");
    expect((await auditRows(org.id, "invite.expired")).map((a) => [a.target_id, a.actor_id])).toEqual([
      [stale.id, null],
    ]);
    expect((await auditRows(org.id, "invite.resent")).map((a) => [a.target_id, JSON.parse(a.data).fromStatus])).toEqual(
      [[target.id, "expired"]],
    );
  });

  it("the resender becomes the inviter: an invite whose inviter was demoted is revived by an admin's resend", async () => {
    const owner = await seedUser({ name: "Owner Name" });
    const manager = await seedUser();
    const invitee = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: manager.id, role: "manager" }] });
    const inv = await seedInvite({ orgId: org.id, email: invitee.email, invitedBy: manager.id, role: "manager" });
    await env.DB.prepare("UPDATE organization_users SET role = 'member' WHERE organization_id = ? AND user_id = ?")
      .bind(org.id, manager.id)
      .run();
    expectProblem(await api("POST", `/v1/invites/${inv.id}/accept`, { as: invitee.id }), 403, "FORBIDDEN");
    const res = await api("POST", `/v1/invites/${inv.id}/resend`, { as: owner.id });
    expect(res.body.invitedBy).toEqual({ userId: owner.id, name: "Owner Name" });
    expect((await api("POST", `/v1/invites/${inv.id}/accept`, { as: invitee.id })).status).toBe(200);
  });

  it("when enqueueing fails the resend still answers 200 with delivery failed ('enqueue failed')", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const inv = await seedInvite({ orgId: org.id, email: mail("fail"), invitedBy: owner.id });
    const queue = spyQueue();
    queue.fail = true;
    const res = await api("POST", `/v1/invites/${inv.id}/resend`, { as: owner.id, queue });
    expect(res.status).toBe(200);
    expect(res.body.delivery).toMatchObject({ status: "failed", lastError: "enqueue failed" });
    expect((await inviteRow(inv.id)).delivery_status).toBe("failed");
  });
});

describe("DELETE /v1/invites/{inviteId}", () => {
  it("revokes (204), audited once; again → 204 without a second audit; the link then shows revoked", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const invitee = await seedUser();
    const created = await invite(owner.id, { orgId: org.id }, [invitee.email]);
    const id = created.ids.get(invitee.email) as string;
    const token = created.tokens.get(invitee.email) as string;
    const counter = { trips: 0 };
    const res = await api("DELETE", `/v1/invites/${id}`, { as: owner.id, counter });
    expect(res.status).toBe(204);
    expect(counter.trips).toBe(1);
    expect((await api("DELETE", `/v1/invites/${id}`, { as: owner.id })).status).toBe(204);
    expect((await inviteRow(id)).status).toBe("revoked");
    expect((await auditRows(org.id, "invite.revoked")).map((a) => [a.actor_id, a.target_id])).toEqual([[owner.id, id]]);
    expect((await api("POST", "/v1/invites/preview", { body: { token } })).body.status).toBe("revoked");
    expectProblem(await api("POST", "/v1/invites/accept", { as: invitee.id, body: { token } }), 410, "INVITE_REVOKED");
  });

  it("5 concurrent revokes: all 204, one audit event", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const inv = await seedInvite({ orgId: org.id, email: mail("conc"), invitedBy: owner.id });
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => api("DELETE", `/v1/invites/${inv.id}`, { as: owner.id })),
    );
    expect(responses.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
    expect(await auditRows(org.id, "invite.revoked")).toHaveLength(1);
  });

  it("accepted → 409 INVITE_ALREADY_ACCEPTED, declined → 410 INVITE_DECLINED; expired invites can be revoked", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const accepted = await seedInvite({ orgId: org.id, email: mail("a"), invitedBy: owner.id, status: "accepted" });
    const declined = await seedInvite({ orgId: org.id, email: mail("d"), invitedBy: owner.id, status: "declined" });
    const expired = await seedInvite({ orgId: org.id, email: mail("e"), invitedBy: owner.id, status: "expired" });
    expectProblem(await api("DELETE", `/v1/invites/${accepted.id}`, { as: owner.id }), 409, "INVITE_ALREADY_ACCEPTED");
    expectProblem(await api("DELETE", `/v1/invites/${declined.id}`, { as: owner.id }), 410, "INVITE_DECLINED");
    expect((await api("DELETE", `/v1/invites/${expired.id}`, { as: owner.id })).status).toBe(204);
    expect((await inviteRow(expired.id)).status).toBe("revoked");
    expect((await inviteRow(accepted.id)).status).toBe("accepted");
    expect((await inviteRow(declined.id)).status).toBe("declined");
  });
});

describe("DELETE /v1/invites/{inviteId}: rank and a guard inside the write (issue 9, item 6)", () => {
  it("revoking requires granting the invite's role: a manager's revoke of a director invite is 403 ROLE_ABOVE_OWN and changes nothing", async () => {
    const owner = await seedUser();
    const manager = await seedUser();
    const projectAdmin = await seedUser();
    const org = await seedOrg(owner.id, {
      members: [
        { id: manager.id, role: "manager" },
        { id: projectAdmin.id, role: "member" },
      ],
    });
    const project = await seedProject(org.id, [{ id: projectAdmin.id, role: "admin" }]);
    const director = await seedInvite({ orgId: org.id, email: mail("dir"), invitedBy: owner.id, role: "director" });
    // A project admin who is an org member cannot revoke a project invite granting org manager.
    const managerViaProject = await seedInvite({
      orgId: org.id,
      projectId: project.id,
      email: mail("pm"),
      invitedBy: owner.id,
      role: "manager",
    });
    const before = [await inviteRow(director.id), await inviteRow(managerViaProject.id)];
    const counter = { trips: 0 };
    expectProblem(
      await api("DELETE", `/v1/invites/${director.id}`, { as: manager.id, counter }),
      403,
      "ROLE_ABOVE_OWN",
    );
    expect(counter.trips).toBe(1);
    expectProblem(
      await api("DELETE", `/v1/invites/${managerViaProject.id}`, { as: projectAdmin.id }),
      403,
      "ROLE_ABOVE_OWN",
    );
    expect([await inviteRow(director.id), await inviteRow(managerViaProject.id)]).toEqual(before);
    expect(await auditRows(org.id, "invite.revoked")).toEqual([]);
    // Already revoked does not turn a refusal into a 204 either: the rank rule comes first.
    expect((await api("DELETE", `/v1/invites/${director.id}`, { as: owner.id })).status).toBe(204);
    expectProblem(await api("DELETE", `/v1/invites/${director.id}`, { as: manager.id }), 403, "ROLE_ABOVE_OWN");
    expect((await auditRows(org.id, "invite.revoked")).map((a) => a.actor_id)).toEqual([owner.id]);
  });

  // Forced interleaving: the caller's membership changes after the request authenticated and
  // before its one batch runs (the hook runs just before the batch is sent). With a read in one
  // round trip and the write in another, the write used to go through on the stale read.
  it("a manager removed between the request's start and its write neither revokes nor is the audit actor", async () => {
    const owner = await seedUser();
    const manager = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: manager.id, role: "manager" }] });
    const inv = await seedInvite({ orgId: org.id, email: mail("rm"), invitedBy: owner.id });
    const before = await inviteRow(inv.id);
    const counter: TripCounter = {
      trips: 0,
      beforeBatch: async () => {
        await env.DB.prepare("DELETE FROM organization_users WHERE organization_id = ? AND user_id = ?")
          .bind(org.id, manager.id)
          .run();
      },
    };
    expectProblem(await api("DELETE", `/v1/invites/${inv.id}`, { as: manager.id, counter }), 404, "INVITE_NOT_FOUND");
    expect(counter.batches).toBe(1);
    expect(await inviteRow(inv.id)).toEqual(before);
    expect(await auditRows(org.id, "invite.revoked")).toEqual([]);
  });

  it("a director demoted to manager between the request's start and its write cannot revoke a director invite", async () => {
    const owner = await seedUser();
    const director = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: director.id, role: "director" }] });
    const inv = await seedInvite({ orgId: org.id, email: mail("dm"), invitedBy: owner.id, role: "director" });
    const before = await inviteRow(inv.id);
    const counter = {
      trips: 0,
      beforeBatch: async () => {
        await env.DB.prepare("UPDATE organization_users SET role = 'manager' WHERE organization_id = ? AND user_id = ?")
          .bind(org.id, director.id)
          .run();
      },
    };
    expectProblem(await api("DELETE", `/v1/invites/${inv.id}`, { as: director.id, counter }), 403, "ROLE_ABOVE_OWN");
    expect(await inviteRow(inv.id)).toEqual(before);
    expect(await auditRows(org.id, "invite.revoked")).toEqual([]);
  });
});

describe("other organizations' invites are invisible to list, resend and revoke", () => {
  it("404 INVITE_NOT_FOUND for resend and revoke, NOT_FOUND for the list, and nothing changes", async () => {
    const ownerA = await seedUser();
    const ownerB = await seedUser();
    const orgA = await seedOrg(ownerA.id);
    const orgB = await seedOrg(ownerB.id);
    const projectA = await seedProject(orgA.id);
    const orgInvite = await seedInvite({ orgId: orgA.id, email: mail("a"), invitedBy: ownerA.id });
    const projectInvite = await seedInvite({
      orgId: orgA.id,
      projectId: projectA.id,
      email: mail("b"),
      invitedBy: ownerA.id,
    });
    for (const inv of [orgInvite, projectInvite]) {
      const before = await inviteRow(inv.id);
      expectProblem(await api("POST", `/v1/invites/${inv.id}/resend`, { as: ownerB.id }), 404, "INVITE_NOT_FOUND");
      expectProblem(await api("DELETE", `/v1/invites/${inv.id}`, { as: ownerB.id }), 404, "INVITE_NOT_FOUND");
      expect(await inviteRow(inv.id)).toEqual(before);
    }
    expectProblem(await api("GET", `/v1/organizations/${orgA.id}/invites`, { as: ownerB.id }), 404, "NOT_FOUND");
    expectProblem(await api("GET", `/v1/projects/${projectA.id}/invites`, { as: ownerB.id }), 404, "NOT_FOUND");
    const listB = await api("GET", `/v1/organizations/${orgB.id}/invites`, { as: ownerB.id });
    expect(listB.body.data.map((i: any) => i.id)).not.toContain(orgInvite.id);
    expectProblem(await api("POST", "/v1/invites/inv_unknown/resend", { as: ownerA.id }), 404, "INVITE_NOT_FOUND");
    expectProblem(await api("DELETE", "/v1/invites/inv_unknown", { as: ownerA.id }), 404, "INVITE_NOT_FOUND");
  });

  it("within the org: members without invites:* see 404; a project admin manages only their project's invites", async () => {
    const owner = await seedUser();
    const member = await seedUser();
    const projectAdmin = await seedUser();
    const org = await seedOrg(owner.id, {
      members: [
        { id: member.id, role: "member" },
        { id: projectAdmin.id, role: "member" },
      ],
    });
    const project = await seedProject(org.id, [{ id: projectAdmin.id, role: "admin" }]);
    const orgInvite = await seedInvite({ orgId: org.id, email: mail("o"), invitedBy: owner.id });
    const projectInvite = await seedInvite({
      orgId: org.id,
      projectId: project.id,
      email: mail("p"),
      invitedBy: owner.id,
    });
    expectProblem(await api("POST", `/v1/invites/${orgInvite.id}/resend`, { as: member.id }), 404, "INVITE_NOT_FOUND");
    expectProblem(await api("DELETE", `/v1/invites/${orgInvite.id}`, { as: member.id }), 404, "INVITE_NOT_FOUND");
    expectProblem(await api("DELETE", `/v1/invites/${orgInvite.id}`, { as: projectAdmin.id }), 404, "INVITE_NOT_FOUND");
    expect((await api("POST", `/v1/invites/${projectInvite.id}/resend`, { as: projectAdmin.id })).status).toBe(200);
    expect((await api("DELETE", `/v1/invites/${projectInvite.id}`, { as: projectAdmin.id })).status).toBe(204);
  });
});
