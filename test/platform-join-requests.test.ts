import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectProblem, seedOrg, seedUser, uid } from "./helpers";
import { api } from "./invite-helpers";
import { accessOf, activeCount, seedUserWith } from "./platform-helpers";

/**
 * Join requests and the sign-up gate (API.md "Platform"): a waitlisted user may ask to join an
 * organization of their domain, and an approved request (by an admin, or at once with enrollment
 * `auto`) admits them — within SIGNUP_CAP, else 409 SIGNUP_CAP_REACHED and nothing changes.
 */

async function orgWithDomain(enrollment: "request" | "auto") {
  const domain = `${uid("corp").toLowerCase().replaceAll("_", "-")}.com`;
  const owner = await seedUser();
  const org = await seedOrg(owner.id);
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO organization_domains (organization_id, domain, enrollment, verified_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
  )
    .bind(org.id, domain, enrollment, owner.id, now, now)
    .run();
  return { org, owner, domain };
}

/** A waitlisted user with a verified address at `domain`. */
async function waitlistedAt(domain: string) {
  const user = await seedUserWith("waitlisted");
  await env.DB.prepare(
    "INSERT INTO user_emails (user_id, email, verified, is_primary, created_at) VALUES (?, ?, 1, 0, ?)",
  )
    .bind(user.id, `${user.id.slice(-8).toLowerCase()}@${domain}`, Date.now())
    .run();
  return user;
}

async function state(orgId: string, userId: string) {
  const [member, requests, admitted, orgEvents] = await env.DB.batch([
    env.DB.prepare("SELECT role FROM organization_users WHERE organization_id = ? AND user_id = ?").bind(orgId, userId),
    env.DB.prepare("SELECT status FROM join_requests WHERE organization_id = ? AND user_id = ?").bind(orgId, userId),
    env.DB.prepare(
      "SELECT actor_id, organization_id, data FROM audit_events WHERE action = 'user.admitted' AND target_id = ?",
    ).bind(userId),
    env.DB.prepare("SELECT action FROM audit_events WHERE organization_id = ? ORDER BY rowid").bind(orgId),
  ]);
  return {
    access: await accessOf(userId),
    role: (member?.results[0] as { role: string } | undefined)?.role ?? null,
    requests: (requests?.results ?? []).map((r) => (r as { status: string }).status),
    admitted: (admitted?.results ?? []) as { actor_id: string; organization_id: string | null; data: string }[],
    orgEvents: (orgEvents?.results ?? []).map((r) => (r as { action: string }).action),
  };
}

describe("approving a waitlisted user's join request", () => {
  it("admits them within the cap: approved, member, active, user.admitted by the approver; one round trip", async () => {
    const { org, owner, domain } = await orgWithDomain("request");
    const requester = await waitlistedAt(domain);
    const vars = { SIGNUP_MODE: "invite_only" };
    // Waitlisted, they may still ask to join (a waitlist-exempt route).
    const asked = await api("POST", `/v1/organizations/${org.id}/join-requests`, { as: requester.id, body: {}, vars });
    expect(asked.status, asked.text).toBe(201);
    expect(asked.body.status).toBe("pending");
    expect(await accessOf(requester.id)).toBe("waitlisted");

    const counter = { trips: 0 };
    const res = await api("POST", `/v1/join-requests/${asked.body.id}/approve`, {
      as: owner.id,
      body: { role: "member" },
      vars: { ...vars, SIGNUP_CAP: String((await activeCount()) + 1) },
      counter,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toBe("approved");
    expect(counter.trips).toBe(1);
    const after = await state(org.id, requester.id);
    expect(after.access).toBe("active");
    expect(after.role).toBe("member");
    expect(after.admitted.map((r) => ({ ...r, data: JSON.parse(r.data) }))).toEqual([
      { actor_id: owner.id, organization_id: null, data: { via: "join_request" } },
    ]);
    // An event like any other (outbox row written by the audit trigger, in the same batch).
    const outbox = await env.DB.prepare(
      "SELECT e.type FROM events e JOIN audit_events a ON a.id = e.event_id WHERE a.action = 'user.admitted' AND a.target_id = ?",
    )
      .bind(requester.id)
      .all<{ type: string }>();
    expect(outbox.results).toEqual([{ type: "user.admitted" }]);
    // Admitted, the rest of the API is open to them.
    expect((await api("GET", `/v1/organizations/${org.id}`, { as: requester.id, vars })).status).toBe(200);
  });

  it("at the cap: 409 SIGNUP_CAP_REACHED and nothing changes (request pending, no membership, still waitlisted)", async () => {
    const { org, owner, domain } = await orgWithDomain("request");
    const requester = await waitlistedAt(domain);
    const asked = await api("POST", `/v1/organizations/${org.id}/join-requests`, { as: requester.id, body: {} });
    expect(asked.status, asked.text).toBe(201);
    const before = await state(org.id, requester.id);
    const vars = { SIGNUP_CAP: String(await activeCount()) };
    expectProblem(
      await api("POST", `/v1/join-requests/${asked.body.id}/approve`, { as: owner.id, body: { role: "member" }, vars }),
      409,
      "SIGNUP_CAP_REACHED",
    );
    expect(await state(org.id, requester.id)).toEqual(before);
    expect(before).toMatchObject({ access: "waitlisted", role: null, requests: ["pending"], admitted: [] });
    // Denying is not an admission: the cap does not hold it.
    const denied = await api("POST", `/v1/join-requests/${asked.body.id}/deny`, { as: owner.id, vars });
    expect(denied.status, denied.text).toBe(200);
    expect((await state(org.id, requester.id)).access).toBe("waitlisted");
  });

  it("an active requester is approved at a full cap (no admission needed)", async () => {
    const { org, owner, domain } = await orgWithDomain("request");
    const requester = await waitlistedAt(domain);
    await env.DB.prepare("UPDATE admins SET access = 'active' WHERE id = ?").bind(requester.id).run();
    const asked = await api("POST", `/v1/organizations/${org.id}/join-requests`, { as: requester.id, body: {} });
    const vars = { SIGNUP_CAP: String(await activeCount()) };
    const res = await api("POST", `/v1/join-requests/${asked.body.id}/approve`, {
      as: owner.id,
      body: { role: "member" },
      vars,
    });
    expect(res.status, res.text).toBe(200);
    expect((await state(org.id, requester.id)).admitted).toEqual([]);
  });
});

describe("joining at once (enrollment auto) as a waitlisted user", () => {
  it("admits them within the cap", async () => {
    const { org, domain } = await orgWithDomain("auto");
    const requester = await waitlistedAt(domain);
    const res = await api("POST", `/v1/organizations/${org.id}/join-requests`, {
      as: requester.id,
      body: {},
      vars: { SIGNUP_CAP: String((await activeCount()) + 1) },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe("approved");
    const after = await state(org.id, requester.id);
    expect(after).toMatchObject({ access: "active", role: "member", requests: ["approved"] });
    expect(after.admitted.map((r) => JSON.parse(r.data))).toEqual([{ via: "join_request" }]);
  });

  it("at the cap: 409 SIGNUP_CAP_REACHED, no request, no membership, still waitlisted", async () => {
    const { org, domain } = await orgWithDomain("auto");
    const requester = await waitlistedAt(domain);
    const before = await state(org.id, requester.id);
    expectProblem(
      await api("POST", `/v1/organizations/${org.id}/join-requests`, {
        as: requester.id,
        body: {},
        vars: { SIGNUP_CAP: String(await activeCount()) },
      }),
      409,
      "SIGNUP_CAP_REACHED",
    );
    expect(await state(org.id, requester.id)).toEqual(before);
    expect(before).toMatchObject({ access: "waitlisted", role: null, requests: [] });
  });
});
