import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type CallResult, expectProblem, seedOrg, seedUser, uid } from "./helpers";
import { api, auditRows, eventsQueueSpy, inviteRow, seedInvite, spyQueue } from "./invite-helpers";

/**
 * POST /v1/organizations/{orgId}/members: adding an existing user by id makes a consent-pending
 * offer (an invite with source owner_add), never a membership behind their back.
 */
async function isMember(orgId: string, userId: string): Promise<boolean> {
  const row = await env.DB.prepare("SELECT 1 AS x FROM organization_users WHERE organization_id = ? AND user_id = ?")
    .bind(orgId, userId)
    .first();
  return row !== null;
}

const add = (as: string, orgId: string, body: Record<string, unknown>, extra: Parameters<typeof api>[2] = {}) =>
  api("POST", `/v1/organizations/${orgId}/members`, { as, body, ...extra });

async function countInvites(orgId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM invites WHERE organization_id = ?")
    .bind(orgId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("adding an existing user, pending their consent", () => {
  it("creates an owner_add invite to their primary verified address, in one round trip; no membership yet; a notice is queued", async () => {
    const owner = await seedUser({ name: "Alice Admin" });
    const org = await seedOrg(owner.id, { name: "Acme" });
    const user = await seedUser({ name: "Bob Builder" });
    const queue = spyQueue();
    const events = eventsQueueSpy();
    const counter = { trips: 0 };
    const res = await add(
      owner.id,
      org.id,
      { userId: user.id, role: "manager" },
      { queue, counter, eventsQueue: events },
    );
    expect(res.status, res.text).toBe(201);
    expect(counter.trips).toBe(1);
    expect(res.body).toMatchObject({
      outcome: "invited",
      invite: {
        kind: "organization",
        organizationId: org.id,
        email: user.email,
        role: "manager",
        status: "pending",
        source: "owner_add",
        invitedBy: { userId: owner.id, name: "Alice Admin" },
      },
    });
    expect(await isMember(org.id, user.id)).toBe(false);
    const created = await auditRows(org.id, "invite.created");
    expect(created.map((a) => [a.actor_id, a.target_id, JSON.parse(a.data).source, JSON.parse(a.data).userId])).toEqual(
      [[owner.id, res.body.invite.id, "owner_add", user.id]],
    );
    // The notice is the invite.created event's notification (outbox-backed), not an invite email
    // with a token: the event is handed off, nothing goes to EMAIL_QUEUE from the request.
    expect(events.eventIds).toEqual(created.map((a) => a.id));
    expect(queue.messages).toEqual([]);
    // The inviter's list shows it with its source.
    const list = await api("GET", `/v1/organizations/${org.id}/invites`, { as: owner.id });
    expect(list.body.data).toEqual([expect.objectContaining({ id: res.body.invite.id, source: "owner_add" })]);
  });

  it("shows in the user's banner feed with its source; accepting by id makes them a member (member.added)", async () => {
    const owner = await seedUser({ name: "Alice Admin" });
    const org = await seedOrg(owner.id, { name: "Acme" });
    const user = await seedUser();
    const emailInvite = await seedInvite({
      orgId: (await seedOrg(owner.id)).id,
      email: user.email,
      invitedBy: owner.id,
    });
    const { body } = await add(owner.id, org.id, { userId: user.id });
    const feed = await api("GET", "/v1/me/invites", { as: user.id });
    const sources = Object.fromEntries(feed.body.data.map((i: { id: string; source: string }) => [i.id, i.source]));
    expect(sources).toEqual({ [body.invite.id]: "owner_add", [emailInvite.id]: "email" });
    const accepted = await api("POST", `/v1/invites/${body.invite.id}/accept`, { as: user.id });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.organization).toMatchObject({ id: org.id, role: "member" });
    expect(await isMember(org.id, user.id)).toBe(true);
    expect((await auditRows(org.id, "member.added")).map((a) => a.target_id)).toEqual([user.id]);
  });

  it("the user may decline it; the owner may revoke one", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const [declining, revoked] = [await seedUser(), await seedUser()];
    const first = await add(owner.id, org.id, { userId: declining.id });
    expect((await api("POST", `/v1/invites/${first.body.invite.id}/decline`, { as: declining.id })).status).toBe(204);
    expect((await inviteRow(first.body.invite.id)).status).toBe("declined");
    const second = await add(owner.id, org.id, { userId: revoked.id });
    expect((await api("DELETE", `/v1/invites/${second.body.invite.id}`, { as: owner.id })).status).toBe(204);
    expect((await api("GET", "/v1/me/invites", { as: revoked.id })).body.data).toEqual([]);
    expect(await isMember(org.id, declining.id)).toBe(false);
    expect(await isMember(org.id, revoked.id)).toBe(false);
  });

  it("a pending invite for the address already → already_invited with it, nothing new", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const user = await seedUser();
    const pending = await seedInvite({ orgId: org.id, email: user.email, invitedBy: owner.id });
    const queue = spyQueue();
    const events = eventsQueueSpy();
    const res = await add(owner.id, org.id, { userId: user.id }, { queue, eventsQueue: events });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ outcome: "already_invited", invite: { id: pending.id, source: "email" } });
    expect(queue.messages).toEqual([]);
    expect(events.eventIds).toEqual([]);
    expect(await countInvites(org.id)).toBe(1);
    // Adding twice is the same.
    const again = await add(owner.id, org.id, { userId: user.id });
    expect(again.body.outcome).toBe("already_invited");
  });

  it("an expired pending invite is expired first (audited) and a new offer made", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const user = await seedUser();
    const stale = await seedInvite({
      orgId: org.id,
      email: user.email,
      invitedBy: owner.id,
      createdAt: Date.now() - 10 * 86_400_000,
    });
    const res = await add(owner.id, org.id, { userId: user.id });
    expect(res.body.outcome).toBe("invited");
    expect((await inviteRow(stale.id)).status).toBe("expired");
    expect((await auditRows(org.id, "invite.expired")).map((a) => a.target_id)).toEqual([stale.id]);
  });
});

describe("refusals (each changes nothing)", () => {
  async function expectNothingCreated(res: CallResult, status: number, code: string, orgId: string) {
    expectProblem(res, status, code);
    expect(await countInvites(orgId)).toBe(0);
    expect(await auditRows(orgId)).toEqual([]);
  }

  it("a user with no verified address → 409 NO_VERIFIED_EMAIL", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const user = await seedUser();
    await env.DB.prepare("UPDATE user_emails SET verified = 0 WHERE user_id = ?").bind(user.id).run();
    await expectNothingCreated(await add(owner.id, org.id, { userId: user.id }), 409, "NO_VERIFIED_EMAIL", org.id);
  });

  it("an existing member → 409 ALREADY_MEMBER", async () => {
    const owner = await seedUser();
    const member = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: member.id, role: "guest" }] });
    await expectNothingCreated(await add(owner.id, org.id, { userId: member.id }), 409, "ALREADY_MEMBER", org.id);
  });

  it("an unknown user → 404 NOT_FOUND", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    await expectNothingCreated(await add(owner.id, org.id, { userId: uid() }), 404, "NOT_FOUND", org.id);
  });

  it("rank rules: a manager cannot add at director (403 ROLE_ABOVE_OWN); a member may not add (403); an outsider gets 404", async () => {
    const owner = await seedUser();
    const [manager, member, outsider, user] = [await seedUser(), await seedUser(), await seedUser(), await seedUser()];
    const org = await seedOrg(owner.id, {
      members: [
        { id: manager.id, role: "manager" },
        { id: member.id, role: "member" },
      ],
    });
    await expectNothingCreated(
      await add(manager.id, org.id, { userId: user.id, role: "director" }),
      403,
      "ROLE_ABOVE_OWN",
      org.id,
    );
    await expectNothingCreated(await add(member.id, org.id, { userId: user.id }), 403, "FORBIDDEN", org.id);
    await expectNothingCreated(await add(outsider.id, org.id, { userId: user.id }), 404, "NOT_FOUND", org.id);
    const ok = await add(manager.id, org.id, { userId: user.id, role: "manager" });
    expect(ok.status).toBe(201);
  });

  it("counts against the invite rate limit like an invite email: over it → 429 with Retry-After, nothing created", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const [first, second] = [await seedUser(), await seedUser()];
    const vars = { RATE_LIMIT_INVITES_PER_HOUR: "1" };
    expect((await add(owner.id, org.id, { userId: first.id }, { vars })).status).toBe(201);
    const refused = await add(owner.id, org.id, { userId: second.id }, { vars });
    expectProblem(refused, 429, "RATE_LIMITED");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await countInvites(org.id)).toBe(1);
    expect(await auditRows(org.id, "invite.created")).toHaveLength(1);
  });

  it("unknown body fields and a bad role → 400", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const user = await seedUser();
    expectProblem(await add(owner.id, org.id, { userId: user.id, role: "king" }), 400, "VALIDATION_FAILED");
    expectProblem(await add(owner.id, org.id, { userId: user.id, email: "x@y.z" }), 400, "VALIDATION_FAILED");
    expect(await countInvites(org.id)).toBe(0);
  });
});
