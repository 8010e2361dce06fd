import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { eventsOf } from "./event-helpers";
import { auditOf, expectProblem, seedOrg, seedUser, uid } from "./helpers";
import { api, barrier, eventsQueueSpy } from "./invite-helpers";

/**
 * Suggestions and join requests: organizations suggest themselves to people of their claimed
 * domains; those people ask to join (or join at once, enrollment auto); admins approve or deny.
 */
type Role = "owner" | "director" | "manager" | "member" | "guest";

function freshDomain(): string {
  return `${uid("corp").toLowerCase().replaceAll("_", "-")}.com`;
}

/** A user with a verified address at `domain` (besides their primary one). */
async function personAt(domain: string, verified = true, name?: string) {
  const id = uid();
  return await seedUser({ id, name, emails: [{ email: `${id.slice(-8).toLowerCase()}@${domain}`, verified }] });
}

/** An organization that claimed a fresh domain with `enrollment`, with admins of the given roles. */
async function orgWithDomain(
  enrollment: "request" | "auto" = "request",
  options: { admins?: Role[]; maxMembers?: number; name?: string } = {},
) {
  const domain = freshDomain();
  const owner = await seedUser();
  const admins = await Promise.all((options.admins ?? []).map(async (role) => ({ ...(await seedUser()), role })));
  const org = await seedOrg(owner.id, {
    name: options.name,
    maxMembers: options.maxMembers ?? null,
    members: admins.map((a) => ({ id: a.id, role: a.role })),
  });
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO organization_domains (organization_id, domain, enrollment, verified_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
  )
    .bind(org.id, domain, enrollment, owner.id, now, now)
    .run();
  return { org, owner, admins, domain };
}

async function roleOf(orgId: string, userId: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT role FROM organization_users WHERE organization_id = ? AND user_id = ?")
    .bind(orgId, userId)
    .first<{ role: string }>();
  return row?.role ?? null;
}

const request = (as: string, orgId: string, body: unknown = {}, extra: Parameters<typeof api>[2] = {}) =>
  api("POST", `/v1/organizations/${orgId}/join-requests`, { as, body, ...extra });

describe("GET /v1/me/suggestions", () => {
  it("lists organizations of the caller's verified domains, in one round trip; never another domain's; minus member-of and pending", async () => {
    const acme = await orgWithDomain("request", { name: "Acme" });
    const auto = await orgWithDomain("auto", { name: "Autoco" });
    const other = await orgWithDomain("request", { name: "Other" });
    const user = await seedUser({
      emails: [
        { email: `u-${uid().slice(-6)}@${acme.domain}`, verified: true },
        { email: `u-${uid().slice(-6)}@${auto.domain}`, verified: true },
        // An unverified address at a domain suggests nothing.
        { email: `u-${uid().slice(-6)}@${other.domain}`, verified: false },
      ],
    });
    const counter = { trips: 0 };
    const res = await api("GET", "/v1/me/suggestions", { as: user.id, counter });
    expect(res.status).toBe(200);
    expect(counter.trips).toBe(1);
    expect(res.body.data).toEqual([
      { organization: { id: acme.org.id, name: "Acme" }, domain: acme.domain, enrollment: "request" },
      { organization: { id: auto.org.id, name: "Autoco" }, domain: auto.domain, enrollment: "auto" },
    ]);
    // A user of another domain is never shown these organizations.
    const stranger = await personAt(freshDomain());
    expect((await api("GET", "/v1/me/suggestions", { as: stranger.id })).body.data).toEqual([]);
    // A pending request and a membership each remove the suggestion.
    expect((await request(user.id, acme.org.id)).status).toBe(201);
    expect((await request(user.id, auto.org.id)).body.status).toBe("approved");
    expect((await api("GET", "/v1/me/suggestions", { as: user.id })).body.data).toEqual([]);
  });
});

describe("asking to join", () => {
  it("enrollment request: 201 pending, audited (join_request.created), one round trip; the caller sees it in /v1/me/join-requests", async () => {
    const { org, domain } = await orgWithDomain("request", { name: "Acme" });
    const user = await personAt(domain, true, "Rita Requester");
    const counter = { trips: 0 };
    const res = await request(user.id, org.id, { message: "  Hi, I work on billing.  " }, { counter });
    expect(res.status, res.text).toBe(201);
    expect(counter.trips).toBe(1);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^jrq_/),
      organization: { id: org.id, name: "Acme" },
      user: { userId: user.id, email: expect.stringContaining(`@${domain}`), name: "Rita Requester" },
      status: "pending",
      role: null,
      message: "Hi, I work on billing.",
      createdAt: expect.any(String),
      decidedAt: null,
      decidedBy: null,
    });
    expect(await roleOf(org.id, user.id)).toBeNull();
    expect((await auditOf(org.id)).map((a) => [a.action, a.target_type, a.target_id, a.actor_id])).toEqual([
      ["join_request.created", "join_request", res.body.id, user.id],
    ]);
    // Asking again answers the pending request (200), nothing new.
    const again = await request(user.id, org.id);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(res.body.id);
    const mineCounter = { trips: 0 };
    const mine = await api("GET", "/v1/me/join-requests", { as: user.id, counter: mineCounter });
    expect(mineCounter.trips).toBe(1);
    expect(mine.body).toEqual({ data: [res.body], nextCursor: null });
  });

  it("enrollment auto: approved at once, the caller is a member; created, approved and member.added audited", async () => {
    const { org, domain } = await orgWithDomain("auto");
    const user = await personAt(domain);
    const counter = { trips: 0 };
    const res = await request(user.id, org.id, {}, { counter });
    expect(res.status, res.text).toBe(201);
    expect(counter.trips).toBe(1);
    expect(res.body).toMatchObject({ status: "approved", role: "member", decidedBy: null });
    expect(res.body.decidedAt).toEqual(expect.any(String));
    expect(await roleOf(org.id, user.id)).toBe("member");
    expect((await auditOf(org.id)).map((a) => [a.action, a.target_type, a.target_id])).toEqual([
      ["join_request.created", "join_request", res.body.id],
      ["join_request.approved", "join_request", res.body.id],
      ["member.added", "member", user.id],
    ]);
  });

  it("auto-join respects the seat limit: 409 SEAT_LIMIT_REACHED, nothing written", async () => {
    const { org, domain } = await orgWithDomain("auto", { maxMembers: 1 });
    const user = await personAt(domain);
    expectProblem(await request(user.id, org.id), 409, "SEAT_LIMIT_REACHED");
    expect(await roleOf(org.id, user.id)).toBeNull();
    expect(await auditOf(org.id)).toEqual([]);
    expect((await api("GET", "/v1/me/join-requests", { as: user.id })).body.data).toEqual([]);
  });

  it("an organization not suggested to the caller → 404 (another domain, an unverified address, no such org)", async () => {
    const { org, domain } = await orgWithDomain("auto");
    const stranger = await personAt(freshDomain());
    expectProblem(await request(stranger.id, org.id), 404, "NOT_FOUND");
    const unverified = await personAt(domain, false);
    expectProblem(await request(unverified.id, org.id), 404, "NOT_FOUND");
    expectProblem(await request(stranger.id, "org_does_not_exist"), 404, "NOT_FOUND");
    expect(await auditOf(org.id)).toEqual([]);
  });

  it("a member → 409 ALREADY_MEMBER (before anything else); a message over 500 characters or with control characters → 400", async () => {
    const { org, owner, domain } = await orgWithDomain("request");
    expectProblem(await request(owner.id, org.id), 409, "ALREADY_MEMBER");
    const user = await personAt(domain);
    expectProblem(await request(user.id, org.id, { message: "x".repeat(501) }), 400, "VALIDATION_FAILED");
    expectProblem(await request(user.id, org.id, { message: "a\u0000b" }), 400, "VALIDATION_FAILED");
    expect(await auditOf(org.id)).toEqual([]);
  });
});

describe("deciding", () => {
  it("approve with a role: member with that role, audited, one round trip; the requester is notified", async () => {
    const { org, owner, domain } = await orgWithDomain("request");
    const user = await personAt(domain);
    const { body: jr } = await request(user.id, org.id);
    const events = eventsQueueSpy();
    const counter = { trips: 0 };
    const res = await api("POST", `/v1/join-requests/${jr.id}/approve`, {
      as: owner.id,
      body: { role: "manager" },
      counter,
      eventsQueue: events,
    });
    expect(res.status, res.text).toBe(200);
    expect(counter.trips).toBe(1);
    expect(res.body).toMatchObject({ id: jr.id, status: "approved", role: "manager", decidedBy: owner.id });
    expect(await roleOf(org.id, user.id)).toBe("manager");
    expect((await auditOf(org.id)).map((a) => [a.action, a.actor_id, a.target_id])).toEqual([
      ["join_request.created", user.id, jr.id],
      ["join_request.approved", owner.id, jr.id],
      ["member.added", owner.id, user.id],
    ]);
    // The requester is notified through the join_request.approved event (handed off; without
    // EVENTS_WEBHOOK_URL only events that notify someone are).
    const approved = (await eventsOf(org.id)).find((e) => e.type === "join_request.approved");
    expect(events.eventIds).toEqual([approved?.event_id]);
    // Deciding again: 409 CONFLICT, nothing more.
    expectProblem(await api("POST", `/v1/join-requests/${jr.id}/deny`, { as: owner.id }), 409, "CONFLICT");
    expect(await auditOf(org.id)).toHaveLength(3);
  });

  it("the listing for admins (members:invite), by status; members 403, outsiders 404; one round trip", async () => {
    const { org, owner, admins, domain } = await orgWithDomain("request", { admins: ["manager", "member"] });
    const [a, b] = [await personAt(domain), await personAt(domain)];
    const first = (await request(a.id, org.id)).body;
    const second = (await request(b.id, org.id)).body;
    await api("POST", `/v1/join-requests/${first.id}/deny`, { as: owner.id });
    const counter = { trips: 0 };
    const pending = await api("GET", `/v1/organizations/${org.id}/join-requests`, { as: admins[0]?.id, counter });
    expect(counter.trips).toBe(1);
    expect(pending.body.data.map((r: { id: string }) => r.id)).toEqual([second.id]);
    const denied = await api("GET", `/v1/organizations/${org.id}/join-requests?status=denied`, { as: owner.id });
    expect(denied.body.data).toEqual([
      expect.objectContaining({ id: first.id, status: "denied", decidedBy: owner.id }),
    ]);
    expectProblem(
      await api("GET", `/v1/organizations/${org.id}/join-requests`, { as: admins[1]?.id }),
      403,
      "FORBIDDEN",
    );
    expectProblem(await api("GET", `/v1/organizations/${org.id}/join-requests`, { as: a.id }), 404, "NOT_FOUND");
  });

  it("deny: denied, audited, notified; the user may ask again later", async () => {
    const { org, owner, domain } = await orgWithDomain("request");
    const user = await personAt(domain);
    const { body: jr } = await request(user.id, org.id);
    const events = eventsQueueSpy();
    const counter = { trips: 0 };
    const res = await api("POST", `/v1/join-requests/${jr.id}/deny`, { as: owner.id, eventsQueue: events, counter });
    expect(res.status, res.text).toBe(200);
    expect(counter.trips).toBe(1);
    expect(res.body).toMatchObject({ status: "denied", role: null, decidedBy: owner.id });
    const denied = (await eventsOf(org.id)).find((e) => e.type === "join_request.denied");
    expect(events.eventIds).toEqual([denied?.event_id]);
    expect(await roleOf(org.id, user.id)).toBeNull();
    expect((await auditOf(org.id)).map((a) => a.action)).toEqual(["join_request.created", "join_request.denied"]);
    expect((await request(user.id, org.id)).status).toBe(201);
  });

  it("approval above one's own role → 403 ROLE_ABOVE_OWN; by a member → 404; nothing changes", async () => {
    const { org, admins, domain } = await orgWithDomain("request", { admins: ["manager", "member"] });
    const user = await personAt(domain);
    const { body: jr } = await request(user.id, org.id);
    const [manager, member] = admins as unknown as [{ id: string }, { id: string }];
    expectProblem(
      await api("POST", `/v1/join-requests/${jr.id}/approve`, { as: manager.id, body: { role: "director" } }),
      403,
      "ROLE_ABOVE_OWN",
    );
    expectProblem(
      await api("POST", `/v1/join-requests/${jr.id}/approve`, { as: member.id, body: {} }),
      404,
      "NOT_FOUND",
    );
    expectProblem(await api("POST", `/v1/join-requests/${jr.id}/deny`, { as: user.id }), 404, "NOT_FOUND");
    expect(await roleOf(org.id, user.id)).toBeNull();
    expect((await auditOf(org.id)).map((a) => a.action)).toEqual(["join_request.created"]);
    const ok = await api("POST", `/v1/join-requests/${jr.id}/approve`, { as: manager.id, body: { role: "manager" } });
    expect(ok.status).toBe(200);
  });

  it("approval respects the seat limit: 409 SEAT_LIMIT_REACHED, still pending", async () => {
    const { org, owner, domain } = await orgWithDomain("request", { maxMembers: 1 });
    const user = await personAt(domain);
    const { body: jr } = await request(user.id, org.id);
    expectProblem(
      await api("POST", `/v1/join-requests/${jr.id}/approve`, { as: owner.id, body: {} }),
      409,
      "SEAT_LIMIT_REACHED",
    );
    expect(await roleOf(org.id, user.id)).toBeNull();
    const list = await api("GET", `/v1/organizations/${org.id}/join-requests`, { as: owner.id });
    expect(list.body.data.map((r: { status: string }) => r.status)).toEqual(["pending"]);
  });

  it("two admins approving at once (batches released together): one approval, one 409 CONFLICT, one membership, one audit row", async () => {
    const { org, owner, admins, domain } = await orgWithDomain("request", { admins: ["director"] });
    const user = await personAt(domain);
    const { body: jr } = await request(user.id, org.id);
    const gate = barrier(2);
    const [a, b] = await Promise.all(
      [owner.id, admins[0]?.id as string].map((as, i) =>
        api("POST", `/v1/join-requests/${jr.id}/approve`, {
          as,
          body: { role: i === 0 ? "director" : "member" },
          counter: { trips: 0, beforeBatch: () => gate.wait() },
        }),
      ),
    );
    const results = [a, b].map((r) => r?.status).sort();
    expect(results).toEqual([200, 409]);
    const loser = [a, b].find((r) => r?.status === 409);
    expectProblem(loser as never, 409, "CONFLICT");
    const winner = [a, b].find((r) => r?.status === 200);
    const members = await env.DB.prepare(
      "SELECT count(*) AS n FROM organization_users WHERE organization_id = ? AND user_id = ?",
    )
      .bind(org.id, user.id)
      .first<{ n: number }>();
    expect(members?.n).toBe(1);
    expect(await roleOf(org.id, user.id)).toBe(winner?.body.role);
    const audit = await auditOf(org.id);
    expect(audit.filter((e) => e.action === "join_request.approved")).toHaveLength(1);
    expect(audit.filter((e) => e.action === "member.added")).toHaveLength(1);
  });

  it("an approval racing a denial: exactly one decision stands", async () => {
    const { org, owner, admins, domain } = await orgWithDomain("request", { admins: ["manager"] });
    const user = await personAt(domain);
    const { body: jr } = await request(user.id, org.id);
    const gate = barrier(2);
    const counter = () => ({ trips: 0, beforeBatch: () => gate.wait() });
    const [approve, deny] = await Promise.all([
      api("POST", `/v1/join-requests/${jr.id}/approve`, { as: owner.id, body: {}, counter: counter() }),
      api("POST", `/v1/join-requests/${jr.id}/deny`, { as: admins[0]?.id, counter: counter() }),
    ]);
    expect([approve.status, deny.status].sort()).toEqual([200, 409]);
    const decided = (await auditOf(org.id)).filter(
      (e) => e.action.startsWith("join_request.") && e.action !== "join_request.created",
    );
    expect(decided).toHaveLength(1);
    expect(await roleOf(org.id, user.id)).toBe(approve.status === 200 ? "member" : null);
  });
});

describe("withdrawing", () => {
  it("the requester withdraws (204, audited once, idempotent); someone else → 404; a decided request → 409", async () => {
    const { org, owner, domain } = await orgWithDomain("request");
    const user = await personAt(domain);
    const { body: jr } = await request(user.id, org.id);
    expectProblem(await api("DELETE", `/v1/join-requests/${jr.id}`, { as: owner.id }), 404, "NOT_FOUND");
    const counter = { trips: 0 };
    expect((await api("DELETE", `/v1/join-requests/${jr.id}`, { as: user.id, counter })).status).toBe(204);
    expect(counter.trips).toBe(1);
    expect((await api("DELETE", `/v1/join-requests/${jr.id}`, { as: user.id })).status).toBe(204);
    expect((await auditOf(org.id)).map((a) => [a.action, a.actor_id])).toEqual([
      ["join_request.created", user.id],
      ["join_request.withdrawn", user.id],
    ]);
    expectProblem(await api("POST", `/v1/join-requests/${jr.id}/approve`, { as: owner.id, body: {} }), 409, "CONFLICT");
    // Suggested again once withdrawn; a denied request cannot be withdrawn.
    expect((await api("GET", "/v1/me/suggestions", { as: user.id })).body.data).toHaveLength(1);
    const { body: second } = await request(user.id, org.id);
    await api("POST", `/v1/join-requests/${second.id}/deny`, { as: owner.id });
    expectProblem(await api("DELETE", `/v1/join-requests/${second.id}`, { as: user.id }), 409, "CONFLICT");
  });
});
