import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ApiError } from "../workers/core/errors";
import { acceptInvite } from "../workers/core/invites/accept";
import { expectProblem, seedOrg, seedProject, seedUser } from "./helpers";
import { api, auditRows, barrier, invite, inviteRow, randomIp, seedInvite } from "./invite-helpers";

const mail = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}@example.com`;

async function orgRole(orgId: string, userId: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT role FROM organization_users WHERE organization_id = ? AND user_id = ?")
    .bind(orgId, userId)
    .first<{ role: string }>();
  return row?.role ?? null;
}

async function projectRole(projectId: string, userId: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT role FROM project_admins WHERE project_id = ? AND admin_id = ?")
    .bind(projectId, userId)
    .first<{ role: string }>();
  return row?.role ?? null;
}

/** Everything an accept could change, to prove that a refused one changed nothing. */
async function snapshot(orgId: string, inviteId: string): Promise<unknown> {
  const [members, projectMembers, invites, audits] = await env.DB.batch([
    env.DB.prepare("SELECT * FROM organization_users WHERE organization_id = ? ORDER BY user_id").bind(orgId),
    env.DB.prepare(
      "SELECT pa.* FROM project_admins pa JOIN projects p ON p.id = pa.project_id WHERE p.organization_id = ? ORDER BY pa.project_id, pa.admin_id",
    ).bind(orgId),
    env.DB.prepare("SELECT * FROM invites WHERE id = ?").bind(inviteId),
    env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE organization_id = ?").bind(orgId),
  ]);
  return [members?.results, projectMembers?.results, invites?.results, audits?.results];
}

const accept = (as: string, token: string) => api("POST", "/v1/invites/accept", { as, body: { token } });

describe("accepting an organization invite", () => {
  it("by token: the user joins with the invite's role, the invite is accepted and audited, in one D1 round trip", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id, { name: "Acme" });
    const invitee = await seedUser();
    const { tokens, ids } = await invite(owner.id, { orgId: org.id }, [invitee.email], { role: "manager" });
    const counter = { trips: 0 };
    const res = await api("POST", "/v1/invites/accept", {
      as: invitee.id,
      body: { token: tokens.get(invitee.email) },
      counter,
    });
    expect(res.status, res.text).toBe(200);
    expect(counter.trips).toBe(1);
    expect(res.body).toEqual({
      organization: {
        id: org.id,
        name: "Acme",
        slug: org.slug,
        createdAt: expect.any(String),
        role: "manager",
        maxMembers: null,
      },
      project: null,
    });
    expect(await orgRole(org.id, invitee.id)).toBe("manager");
    const row = await inviteRow(ids.get(invitee.email) as string);
    expect(row.status).toBe("accepted");
    expect(row.accepted_by).toBe(invitee.id);
    expect(row.accepted_at).toBeTypeOf("number");
    const accepted = await auditRows(org.id, "invite.accepted");
    expect(accepted.map((a) => [a.actor_id, a.target_id])).toEqual([[invitee.id, row.id]]);
    const added = await auditRows(org.id, "member.added");
    expect(added.map((a) => [a.actor_id, a.target_type, a.target_id, JSON.parse(a.data).role])).toEqual([
      [invitee.id, "member", invitee.id, "manager"],
    ]);
  });

  it("a user joins two organizations, each with its own role", async () => {
    const invitee = await seedUser();
    const ownerA = await seedUser();
    const ownerB = await seedUser();
    const orgA = await seedOrg(ownerA.id);
    const orgB = await seedOrg(ownerB.id);
    const a = await invite(ownerA.id, { orgId: orgA.id }, [invitee.email], { role: "director" });
    const b = await invite(ownerB.id, { orgId: orgB.id }, [invitee.email], { role: "guest" });
    expect((await accept(invitee.id, a.tokens.get(invitee.email) as string)).status).toBe(200);
    expect((await accept(invitee.id, b.tokens.get(invitee.email) as string)).status).toBe(200);
    expect(await orgRole(orgA.id, invitee.id)).toBe("director");
    expect(await orgRole(orgB.id, invitee.id)).toBe("guest");
    const me = await api("GET", "/v1/me", { as: invitee.id });
    expect(me.body.organizations.map((o: any) => [o.id, o.role]).sort()).toEqual(
      [
        [orgA.id, "director"],
        [orgB.id, "guest"],
      ].sort(),
    );
  });

  it("an invite for an address the user added as a second, verified address is theirs", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const alt = mail("alt");
    const invitee = await seedUser({ emails: [{ email: alt, verified: true }] });
    const { tokens } = await invite(owner.id, { orgId: org.id }, [alt]);
    expect((await accept(invitee.id, tokens.get(alt) as string)).status).toBe(200);
    expect(await orgRole(org.id, invitee.id)).toBe("member");
  });

  it("20 concurrent accepts of one invite: exactly one 200, the rest 409 INVITE_ALREADY_ACCEPTED, one membership", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const invitee = await seedUser();
    const { tokens } = await invite(owner.id, { orgId: org.id }, [invitee.email]);
    const token = tokens.get(invitee.email) as string;
    const ip = randomIp();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api("POST", "/v1/invites/accept", { as: invitee.id, body: { token }, ip })),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) expectProblem(r, 409, "INVITE_ALREADY_ACCEPTED");
    const members = await env.DB.prepare(
      "SELECT count(*) AS n FROM organization_users WHERE organization_id = ? AND user_id = ?",
    )
      .bind(org.id, invitee.id)
      .first<{ n: number }>();
    expect(members?.n).toBe(1);
    expect(await auditRows(org.id, "invite.accepted")).toHaveLength(1);
    expect(await auditRows(org.id, "member.added")).toHaveLength(1);
  });

  it("20 accepts of one project invite by id, all released into their batch together: one 200, one of each membership and audit row", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const project = await seedProject(org.id, [{ id: owner.id, role: "admin" }]);
    const invitee = await seedUser();
    const { ids } = await invite(owner.id, { projectId: project.id }, [invitee.email], { role: "editor" });
    const id = ids.get(invitee.email) as string;
    const gate = barrier(20);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        api("POST", `/v1/invites/${id}/accept`, {
          as: invitee.id,
          counter: { trips: 0, beforeBatch: () => gate.wait() },
        }),
      ),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) expectProblem(r, 409, "INVITE_ALREADY_ACCEPTED");
    expect(await orgRole(org.id, invitee.id)).toBe("member");
    expect(await projectRole(project.id, invitee.id)).toBe("editor");
    expect(await auditRows(org.id, "invite.accepted")).toHaveLength(1);
    expect(await auditRows(org.id, "member.added")).toHaveLength(1);
    expect(await auditRows(org.id, "project_member.added")).toHaveLength(1);
    expect((await inviteRow(id)).accept_nonce).toEqual(expect.any(String));
  });

  it("an existing member accepting an org invite keeps their role", async () => {
    const owner = await seedUser();
    const director = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: director.id, role: "director" }] });
    const pending = await seedInvite({ orgId: org.id, email: director.email, invitedBy: owner.id, role: "guest" });
    const res = await accept(director.id, pending.token);
    expect(res.status).toBe(200);
    expect(res.body.organization.role).toBe("director");
    expect(await orgRole(org.id, director.id)).toBe("director");
    expect((await inviteRow(pending.id)).status).toBe("accepted");
    expect(await auditRows(org.id, "member.added")).toHaveLength(0);
  });
});

describe("accepting a project invite", () => {
  it("someone outside the organization becomes an org member with orgRole and a project member", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const project = await seedProject(org.id, [{ id: owner.id, role: "admin" }], "Apollo");
    const outsider = await seedUser();
    const { tokens, ids } = await invite(owner.id, { projectId: project.id }, [outsider.email], {
      role: "editor",
      orgRole: "guest",
    });
    const res = await accept(outsider.id, tokens.get(outsider.email) as string);
    expect(res.status, res.text).toBe(200);
    expect(res.body.organization).toMatchObject({ id: org.id, role: "guest" });
    expect(res.body.project).toEqual({
      id: project.id,
      organizationId: org.id,
      name: "Apollo",
      createdAt: expect.any(String),
      role: "editor",
    });
    expect(await orgRole(org.id, outsider.id)).toBe("guest");
    expect(await projectRole(project.id, outsider.id)).toBe("editor");
    expect((await inviteRow(ids.get(outsider.email) as string)).status).toBe("accepted");
    expect((await auditRows(org.id, "member.added")).map((a) => a.target_id)).toEqual([outsider.id]);
    const projectAdded = await auditRows(org.id, "project_member.added");
    expect(projectAdded.map((a) => [a.target_id, JSON.parse(a.data).projectId, JSON.parse(a.data).role])).toEqual([
      [outsider.id, project.id, "editor"],
    ]);
  });

  it("an org member joins the project and keeps their org role (orgRole applies only to newcomers)", async () => {
    const owner = await seedUser();
    const manager = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: manager.id, role: "manager" }] });
    const project = await seedProject(org.id);
    const { tokens } = await invite(owner.id, { projectId: project.id }, [manager.email], {
      role: "admin",
      orgRole: "guest",
    });
    const res = await accept(manager.id, tokens.get(manager.email) as string);
    expect(res.status).toBe(200);
    expect(await orgRole(org.id, manager.id)).toBe("manager");
    expect(await projectRole(project.id, manager.id)).toBe("admin");
    expect(await auditRows(org.id, "member.added")).toHaveLength(0);
    expect(await auditRows(org.id, "project_member.added")).toHaveLength(1);
  });

  it("someone who became a project member since the invite: the invite is accepted and their project role kept", async () => {
    const owner = await seedUser();
    const user = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: user.id, role: "member" }] });
    const project = await seedProject(org.id);
    const pending = await seedInvite({
      orgId: org.id,
      projectId: project.id,
      projectRole: "admin",
      email: user.email,
      invitedBy: owner.id,
    });
    await env.DB.prepare(
      "INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at) VALUES (?, ?, 'viewer', 1, 1)",
    )
      .bind(project.id, user.id)
      .run();
    const res = await accept(user.id, pending.token);
    expect(res.status).toBe(200);
    expect(res.body.project.role).toBe("viewer");
    expect(await projectRole(project.id, user.id)).toBe("viewer");
    expect((await inviteRow(pending.id)).status).toBe("accepted");
    expect(await auditRows(org.id, "project_member.added")).toHaveLength(0);
  });
});

describe("accept refusals change nothing", () => {
  async function setup(
    options: {
      inviteeEmails?: { email: string; verified: boolean }[];
      maxMembers?: number;
      inviteEmail?: string;
      status?: "pending" | "accepted" | "declined" | "revoked" | "expired";
      expiresAt?: number;
      role?: string;
    } = {},
  ) {
    const owner = await seedUser();
    const manager = await seedUser();
    const invitee = await seedUser({ emails: options.inviteeEmails });
    const org = await seedOrg(owner.id, {
      members: [{ id: manager.id, role: "manager" }],
      maxMembers: options.maxMembers ?? null,
    });
    const pending = await seedInvite({
      orgId: org.id,
      email: options.inviteEmail ?? invitee.email,
      invitedBy: manager.id,
      status: options.status,
      expiresAt: options.expiresAt,
      role: options.role,
    });
    return { owner, manager, invitee, org, pending, before: await snapshot(org.id, pending.id) };
  }

  it("unknown token → 404 INVITE_NOT_FOUND", async () => {
    const user = await seedUser();
    expectProblem(await accept(user.id, "A".repeat(43)), 404, "INVITE_NOT_FOUND");
  });

  it("unknown id → 404 INVITE_NOT_FOUND", async () => {
    const user = await seedUser();
    expectProblem(await api("POST", "/v1/invites/inv_nope/accept", { as: user.id }), 404, "INVITE_NOT_FOUND");
  });

  it("expired (past expires_at, not yet marked by the cron) → 410 INVITE_EXPIRED", async () => {
    const s = await setup({ expiresAt: Date.now() - 1 });
    const res = await accept(s.invitee.id, s.pending.token);
    expectProblem(res, 410, "INVITE_EXPIRED");
    expect(res.body.detail).toContain(new Date(s.pending.expiresAt).toISOString());
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(s.before);
  });

  it("expired (marked by the cron) → 410 INVITE_EXPIRED", async () => {
    const s = await setup({ status: "expired" });
    expectProblem(await accept(s.invitee.id, s.pending.token), 410, "INVITE_EXPIRED");
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(s.before);
  });

  it("the expiry boundary is exact: at now = expires_at it is expired, at expires_at - 1 it is accepted", async () => {
    const s = await setup();
    const at = s.pending.expiresAt;
    const refused = await acceptInvite(env.DB, {
      key: { token: s.pending.token },
      userId: s.invitee.id,
      now: at,
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe("INVITE_EXPIRED");
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(s.before);
    const ok = await acceptInvite(env.DB, { key: { token: s.pending.token }, userId: s.invitee.id, now: at - 1 });
    expect(ok.organization.id).toBe(s.org.id);
    expect(await orgRole(s.org.id, s.invitee.id)).toBe("member");
  });

  it("revoked → 410 INVITE_REVOKED", async () => {
    const s = await setup({ status: "revoked" });
    expectProblem(await accept(s.invitee.id, s.pending.token), 410, "INVITE_REVOKED");
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(s.before);
  });

  it("declined → 410 INVITE_DECLINED", async () => {
    const s = await setup({ status: "declined" });
    expectProblem(await accept(s.invitee.id, s.pending.token), 410, "INVITE_DECLINED");
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(s.before);
  });

  it("already accepted → 409 INVITE_ALREADY_ACCEPTED (by the same user, and by anyone else)", async () => {
    const s = await setup();
    expect((await accept(s.invitee.id, s.pending.token)).status).toBe(200);
    const after = await snapshot(s.org.id, s.pending.id);
    expectProblem(await accept(s.invitee.id, s.pending.token), 409, "INVITE_ALREADY_ACCEPTED");
    const other = await seedUser();
    expectProblem(await accept(other.id, s.pending.token), 409, "INVITE_ALREADY_ACCEPTED");
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(after);
  });

  it("no address of the caller equals the invite's → 403 INVITE_EMAIL_MISMATCH", async () => {
    const s = await setup({ inviteEmail: mail("someone-else") });
    expectProblem(await accept(s.invitee.id, s.pending.token), 403, "INVITE_EMAIL_MISMATCH");
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(s.before);
  });

  it("the address matches only an unverified address of the caller → 403 EMAIL_NOT_VERIFIED", async () => {
    const unverified = mail("unverified");
    const s = await setup({ inviteeEmails: [{ email: unverified, verified: false }], inviteEmail: unverified });
    expectProblem(await accept(s.invitee.id, s.pending.token), 403, "EMAIL_NOT_VERIFIED");
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(s.before);
  });

  it("a user whose Clerk webhook has not arrived (no addresses yet) → 403 INVITE_EMAIL_MISMATCH", async () => {
    const s = await setup();
    expectProblem(await accept("user_not_synced_yet", s.pending.token), 403, "INVITE_EMAIL_MISMATCH");
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(s.before);
  });

  it("seat limit reached → 409 SEAT_LIMIT_REACHED; an existing member takes no seat", async () => {
    // owner + manager = 2 members = max.
    const s = await setup({ maxMembers: 2 });
    expectProblem(await accept(s.invitee.id, s.pending.token), 409, "SEAT_LIMIT_REACHED");
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(s.before);
    const project = await seedProject(s.org.id);
    const forManager = await seedInvite({
      orgId: s.org.id,
      projectId: project.id,
      email: s.manager.email,
      invitedBy: s.owner.id,
    });
    expect((await accept(s.manager.id, forManager.token)).status).toBe(200);
    expect(await projectRole(project.id, s.manager.id)).toBe("viewer");
  });

  it("the inviter was demoted below the invite's role since → 403 FORBIDDEN, nothing changes", async () => {
    const s = await setup({ role: "manager" });
    await env.DB.prepare("UPDATE organization_users SET role = 'member' WHERE organization_id = ? AND user_id = ?")
      .bind(s.org.id, s.manager.id)
      .run();
    const before = await snapshot(s.org.id, s.pending.id);
    const res = await accept(s.invitee.id, s.pending.token);
    expectProblem(res, 403, "FORBIDDEN");
    expect(res.body.detail).toMatch(/invited you no longer/);
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(before);
  });

  it("the inviter still has members:invite but a rank below the invite's role → 403 FORBIDDEN", async () => {
    const owner = await seedUser();
    const director = await seedUser();
    const invitee = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: director.id, role: "director" }] });
    const pending = await seedInvite({ orgId: org.id, email: invitee.email, invitedBy: director.id, role: "director" });
    await env.DB.prepare("UPDATE organization_users SET role = 'manager' WHERE organization_id = ? AND user_id = ?")
      .bind(org.id, director.id)
      .run();
    const before = await snapshot(org.id, pending.id);
    expectProblem(await accept(invitee.id, pending.token), 403, "FORBIDDEN");
    expect(await snapshot(org.id, pending.id)).toEqual(before);
  });

  it("the inviter left the organization, or was deleted → 403 FORBIDDEN", async () => {
    const s = await setup();
    await env.DB.prepare("DELETE FROM organization_users WHERE organization_id = ? AND user_id = ?")
      .bind(s.org.id, s.manager.id)
      .run();
    const before = await snapshot(s.org.id, s.pending.id);
    expectProblem(await accept(s.invitee.id, s.pending.token), 403, "FORBIDDEN");
    expect(await snapshot(s.org.id, s.pending.id)).toEqual(before);
    const orphan = await seedInvite({
      orgId: (await seedOrg(s.owner.id)).id,
      email: s.invitee.email,
      invitedBy: null,
      role: "guest",
    });
    expectProblem(await accept(s.invitee.id, orphan.token), 403, "FORBIDDEN");
  });

  it("a project invite whose inviter is no longer project admin (and not an org manager) → 403 FORBIDDEN", async () => {
    const owner = await seedUser();
    const projectAdmin = await seedUser();
    const outsider = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: projectAdmin.id, role: "member" }] });
    const project = await seedProject(org.id, [{ id: projectAdmin.id, role: "admin" }]);
    const { tokens, ids } = await invite(projectAdmin.id, { projectId: project.id }, [outsider.email]);
    await env.DB.prepare("UPDATE project_admins SET role = 'editor' WHERE project_id = ? AND admin_id = ?")
      .bind(project.id, projectAdmin.id)
      .run();
    const before = await snapshot(org.id, ids.get(outsider.email) as string);
    expectProblem(await accept(outsider.id, tokens.get(outsider.email) as string), 403, "FORBIDDEN");
    expect(await snapshot(org.id, ids.get(outsider.email) as string)).toEqual(before);
  });
});

describe("the banner path: accept and decline by id", () => {
  it("accepts an invite addressed to a verified address of the caller", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const invitee = await seedUser();
    const pending = await seedInvite({ orgId: org.id, email: invitee.email, invitedBy: owner.id });
    const counter = { trips: 0 };
    const res = await api("POST", `/v1/invites/${pending.id}/accept`, { as: invitee.id, counter });
    expect(res.status).toBe(200);
    expect(counter.trips).toBe(1);
    expect(res.body.organization.id).toBe(org.id);
  });

  it("an invite addressed to none of the caller's addresses is invisible: 404 INVITE_NOT_FOUND", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const other = await seedUser();
    const pending = await seedInvite({ orgId: org.id, email: mail("not-yours"), invitedBy: owner.id });
    const before = await snapshot(org.id, pending.id);
    expectProblem(await api("POST", `/v1/invites/${pending.id}/accept`, { as: other.id }), 404, "INVITE_NOT_FOUND");
    expectProblem(await api("POST", `/v1/invites/${pending.id}/decline`, { as: other.id }), 404, "INVITE_NOT_FOUND");
    // Even a revoked one: its status is not revealed to a stranger.
    await env.DB.prepare("UPDATE invites SET status = 'revoked' WHERE id = ?").bind(pending.id).run();
    expectProblem(await api("POST", `/v1/invites/${pending.id}/accept`, { as: other.id }), 404, "INVITE_NOT_FOUND");
    await env.DB.prepare("UPDATE invites SET status = 'pending' WHERE id = ?").bind(pending.id).run();
    expect(await snapshot(org.id, pending.id)).toEqual(before);
  });

  it("addressed to an unverified address of the caller: 403 EMAIL_NOT_VERIFIED for accept and decline", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const unverified = mail("unv");
    const invitee = await seedUser({ emails: [{ email: unverified, verified: false }] });
    const pending = await seedInvite({ orgId: org.id, email: unverified, invitedBy: owner.id });
    const before = await snapshot(org.id, pending.id);
    expectProblem(await api("POST", `/v1/invites/${pending.id}/accept`, { as: invitee.id }), 403, "EMAIL_NOT_VERIFIED");
    expectProblem(
      await api("POST", `/v1/invites/${pending.id}/decline`, { as: invitee.id }),
      403,
      "EMAIL_NOT_VERIFIED",
    );
    expect(await snapshot(org.id, pending.id)).toEqual(before);
  });

  it("decline: 204, audited once, idempotent; the invite can no longer be accepted (410 INVITE_DECLINED)", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const invitee = await seedUser();
    const pending = await seedInvite({ orgId: org.id, email: invitee.email, invitedBy: owner.id });
    const res = await api("POST", `/v1/invites/${pending.id}/decline`, { as: invitee.id });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect((await inviteRow(pending.id)).status).toBe("declined");
    expect((await api("POST", `/v1/invites/${pending.id}/decline`, { as: invitee.id })).status).toBe(204);
    const declined = await auditRows(org.id, "invite.declined");
    expect(declined.map((a) => [a.actor_id, a.target_id])).toEqual([[invitee.id, pending.id]]);
    expectProblem(await accept(invitee.id, pending.token), 410, "INVITE_DECLINED");
    expectProblem(await api("POST", `/v1/invites/${pending.id}/accept`, { as: invitee.id }), 410, "INVITE_DECLINED");
    expect(await orgRole(org.id, invitee.id)).toBeNull();
  });

  it("decline refusals: accepted → 409, revoked → 410, expired → 410", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const invitee = await seedUser();
    const cases: [("accepted" | "revoked" | "pending")[], number, string, number?][] = [
      [["accepted"], 409, "INVITE_ALREADY_ACCEPTED"],
      [["revoked"], 410, "INVITE_REVOKED"],
      [["pending"], 410, "INVITE_EXPIRED", Date.now() - 1],
    ];
    for (const [[status], code, name, expiresAt] of cases) {
      const pending = await seedInvite({ orgId: org.id, email: invitee.email, invitedBy: owner.id, status, expiresAt });
      const before = await snapshot(org.id, pending.id);
      expectProblem(await api("POST", `/v1/invites/${pending.id}/decline`, { as: invitee.id }), code, name);
      expect(await snapshot(org.id, pending.id)).toEqual(before);
      await env.DB.prepare("DELETE FROM invites WHERE id = ?").bind(pending.id).run();
    }
  });
});

describe("GET /v1/me/invites (the sign-in banner feed)", () => {
  it("shows only pending, unexpired invites addressed to a verified address of the caller", async () => {
    const owner = await seedUser({ name: "Olive Owner" });
    const org = await seedOrg(owner.id, { name: "Banner Org" });
    const project = await seedProject(org.id, [], "Banner Project");
    const alt = mail("alt-verified");
    const unverified = mail("alt-unverified");
    const invitee = await seedUser({
      emails: [
        { email: alt, verified: true },
        { email: unverified, verified: false },
      ],
    });
    const t0 = Date.now();
    const shown1 = await seedInvite({ orgId: org.id, email: invitee.email, invitedBy: owner.id, createdAt: t0 - 10 });
    const shown2 = await seedInvite({
      orgId: org.id,
      projectId: project.id,
      projectRole: "editor",
      role: "guest",
      email: alt,
      invitedBy: owner.id,
      createdAt: t0 - 5,
    });
    await seedInvite({ orgId: org.id, projectId: project.id, email: unverified, invitedBy: owner.id });
    await seedInvite({
      orgId: (await seedOrg(owner.id)).id,
      email: invitee.email,
      invitedBy: owner.id,
      expiresAt: t0 - 1,
    });
    for (const status of ["accepted", "declined", "revoked", "expired"] as const) {
      await seedInvite({ orgId: (await seedOrg(owner.id)).id, email: invitee.email, invitedBy: owner.id, status });
    }
    await seedInvite({ orgId: (await seedOrg(owner.id)).id, email: mail("someone"), invitedBy: owner.id });

    const counter = { trips: 0 };
    const res = await api("GET", "/v1/me/invites", { as: invitee.id, counter });
    expect(res.status).toBe(200);
    expect(counter.trips).toBe(1);
    expect(res.body).toEqual({
      data: [
        {
          id: shown2.id,
          kind: "project",
          source: "email",
          organization: { id: org.id, name: "Banner Org" },
          project: { id: project.id, name: "Banner Project" },
          role: "guest",
          projectRole: "editor",
          invitedBy: { name: "Olive Owner" },
          expiresAt: new Date(shown2.expiresAt).toISOString(),
        },
        {
          id: shown1.id,
          kind: "organization",
          source: "email",
          organization: { id: org.id, name: "Banner Org" },
          project: null,
          role: "member",
          projectRole: null,
          invitedBy: { name: "Olive Owner" },
          expiresAt: new Date(shown1.expiresAt).toISOString(),
        },
      ],
    });
    // Accepting from the banner removes it from the feed.
    expect((await api("POST", `/v1/invites/${shown1.id}/accept`, { as: invitee.id })).status).toBe(200);
    const after = await api("GET", "/v1/me/invites", { as: invitee.id });
    expect(after.body.data.map((i: any) => i.id)).toEqual([shown2.id]);
  });

  it("requires a session; a user without synced addresses sees nothing", async () => {
    expectProblem(await api("GET", "/v1/me/invites"), 401, "UNAUTHENTICATED");
    const res = await api("GET", "/v1/me/invites", { as: "user_without_webhook_yet" });
    expect(res.body).toEqual({ data: [] });
  });
});

describe("POST /v1/invites/preview", () => {
  it("shows the invite to whoever holds the token, without sign-in, with a masked address", async () => {
    const owner = await seedUser({ name: "Pat Inviter" });
    const org = await seedOrg(owner.id, { name: "Preview Org" });
    const project = await seedProject(org.id, [{ id: owner.id, role: "admin" }], "Preview Project");
    const email = `jane-${crypto.randomUUID().slice(0, 6)}@example.com`;
    const { tokens, res: created } = await invite(owner.id, { projectId: project.id }, [email], { role: "editor" });
    const counter = { trips: 0 };
    const res = await api("POST", "/v1/invites/preview", { body: { token: tokens.get(email) }, counter });
    expect(res.status).toBe(200);
    expect(counter.trips).toBe(1);
    expect(res.body).toEqual({
      organization: { name: "Preview Org" },
      project: { name: "Preview Project" },
      role: "member",
      projectRole: "editor",
      invitedBy: { name: "Pat Inviter" },
      emailHint: "j•••@example.com",
      expiresAt: created.body.results[0].invite.expiresAt,
      status: "pending",
    });
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  });

  it("answers 200 whatever the status (revoked, accepted, expired by time), and 404 for an unknown token", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    for (const [status, expiresAt, shown] of [
      ["revoked", undefined, "revoked"],
      ["accepted", undefined, "accepted"],
      ["pending", Date.now() - 1, "expired"],
    ] as const) {
      const inv = await seedInvite({ orgId: org.id, email: mail("p"), invitedBy: owner.id, status, expiresAt });
      const res = await api("POST", "/v1/invites/preview", { body: { token: inv.token } });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe(shown);
    }
    expectProblem(
      await api("POST", "/v1/invites/preview", { body: { token: "B".repeat(43) } }),
      404,
      "INVITE_NOT_FOUND",
    );
    expectProblem(await api("POST", "/v1/invites/preview", { body: {} }), 400, "VALIDATION_FAILED");
  });
});
