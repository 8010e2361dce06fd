import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Webhook } from "svix";
import { describe, expect, it } from "vitest";
import { admins } from "../schema";
import { gatedDb } from "../workers/api/gated-db";
import { errorResponse } from "../workers/api/router";
import { routes } from "../workers/api/routes";
import { getConfig } from "../workers/core/config";
import { expectProblem, seedOrg, uid } from "./helpers";
import { api } from "./invite-helpers";
import { accessOf, seedUserWith } from "./platform-helpers";

// A valid body for every route that takes one, so the request reaches its handler: the gate is
// judged on requests that would otherwise succeed or fail on the resource, not on validation.
const SAMPLE_BODIES: Record<string, unknown> = {
  "post /v1/organizations": { name: "Acme" },
  "patch /v1/organizations/:orgId": { name: "Acme" },
  "patch /v1/organizations/:orgId/members/:userId": { role: "member" },
  "post /v1/organizations/:orgId/projects": { name: "Web" },
  "patch /v1/projects/:projectId/members/:userId": { role: "viewer" },
  "post /v1/organizations/:orgId/invites": { emails: ["someone@example.com"] },
  "post /v1/projects/:projectId/invites": { emails: ["someone@example.com"], role: "viewer" },
  "post /v1/platform/invitations": { emails: ["someone@example.com"] },
  "post /v1/platform/organizations/:orgId/owner": { userId: "user_x" },
  "post /v1/organizations/:orgId/members": { userId: "user_x" },
  "post /v1/organizations/:orgId/domains": { domain: "gate-example.com" },
  "patch /v1/organizations/:orgId/domains/:domain": { enrollment: "auto" },
  "post /v1/join-requests/:requestId/approve": { role: "member" },
};

// Path ids that pass validation, so the request reaches its handler (the gate is in its D1 trip).
const SAMPLE_IDS: Record<string, string> = { domain: "gate-example.com", requestId: "jrq_x" };

describe("the sign-up gate", () => {
  const gated = routes.filter((r) => r.auth && !r.waitlistAllowed);

  it("covers every authenticated /v1 route but the ones API.md exempts", () => {
    const exempt = routes.filter((r) => r.auth && r.waitlistAllowed).map((r) => `${r.method} ${r.path}`);
    expect(exempt.sort()).toEqual(
      [
        "get /v1/me",
        "get /v1/me/invites",
        "post /v1/invites/accept",
        "post /v1/invites/:inviteId/accept",
        "post /v1/invites/:inviteId/decline",
        "post /v1/platform/invitations/accept",
        "get /v1/me/suggestions",
        "get /v1/me/join-requests",
        "post /v1/organizations/:orgId/join-requests",
        "delete /v1/join-requests/:requestId",
      ].sort(),
    );
    expect(gated.length).toBeGreaterThan(20);
  });

  for (const route of gated) {
    it(`${route.method.toUpperCase()} ${route.path}: a waitlisted caller gets 403 NOT_ADMITTED`, async () => {
      const user = await seedUserWith("waitlisted");
      const org = await seedOrg(user.id);
      const path = route.path.replace(/:(\w+)/g, (_, name: string) =>
        name === "orgId" ? org.id : (SAMPLE_IDS[name] ?? `x_${name}`),
      );
      const key = `${route.method} ${route.path}`;
      if (route.body !== undefined) expect(SAMPLE_BODIES, `a sample body for ${key}`).toHaveProperty([key]);
      const res = await api(route.method.toUpperCase(), path, {
        as: user.id,
        body: route.body === undefined ? undefined : SAMPLE_BODIES[key],
      });
      // Operator endpoints answer 404 to every non-operator (operators are always active).
      if (route.operatorOnly) expectProblem(res, 404, "NOT_FOUND");
      else expectProblem(res, 403, "NOT_ADMITTED");
    });
  }

  it("rolls back the request's writes: a waitlisted owner's rename changes nothing", async () => {
    const user = await seedUserWith("waitlisted");
    const org = await seedOrg(user.id, { name: "Before" });
    expectProblem(
      await api("PATCH", `/v1/organizations/${org.id}`, { as: user.id, body: { name: "After" } }),
      403,
      "NOT_ADMITTED",
    );
    const name = await env.DB.prepare("SELECT name FROM organizations WHERE id = ?").bind(org.id).first("name");
    expect(name).toBe("Before");
    // Admitted, the same request goes through.
    await env.DB.prepare("UPDATE admins SET access = 'active' WHERE id = ?").bind(user.id).run();
    const res = await api("PATCH", `/v1/organizations/${org.id}`, { as: user.id, body: { name: "After" } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.name).toBe("After");
  });

  it("lets a waitlisted caller see themselves and their invites", async () => {
    const user = await seedUserWith("waitlisted");
    const me = await api("GET", "/v1/me", { as: user.id });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ access: "waitlisted", referredBy: null, invitationsLeft: 0 });
    expect((await api("GET", "/v1/me/invites", { as: user.id })).status).toBe(200);
  });

  it("costs no round trip: an active caller's list is still one round trip", async () => {
    const user = await seedUserWith("active");
    const org = await seedOrg(user.id);
    for (const path of ["/v1/organizations", `/v1/organizations/${org.id}`, `/v1/organizations/${org.id}/members`]) {
      const counter = { trips: 0 };
      const res = await api("GET", path, { as: user.id, counter });
      expect(res.status).toBe(200);
      expect(counter.trips).toBe(1);
    }
  });
});

/** A signed user.created webhook through the Worker with the given vars. */
async function userCreated(id: string, vars: Record<string, string> = {}) {
  const payload = {
    object: "event",
    type: "user.created",
    data: {
      id,
      object: "user",
      first_name: "New",
      last_name: null,
      username: null,
      image_url: "https://img.clerk.com/x",
      primary_email_address_id: `idn_${id}`,
      email_addresses: [
        {
          id: `idn_${id}`,
          object: "email_address",
          email_address: `${id.toLowerCase()}@example.com`,
          verification: { status: "verified", strategy: "email_code" },
          linked_to: [],
        },
      ],
      created_at: Date.now(),
      updated_at: Date.now(),
    },
  };
  const msgId = `msg_${crypto.randomUUID()}`;
  const now = new Date();
  const signature = new Webhook(env.CLERK_WEBHOOK_SIGNING_SECRET).sign(msgId, now, JSON.stringify(payload));
  const res = await api("POST", "/webhooks/clerk", {
    body: payload,
    vars,
    headers: {
      "svix-id": msgId,
      "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
      "svix-signature": signature,
    },
  });
  expect(res.status, res.text).toBe(200);
}

describe("access of a new user", () => {
  it("open mode without a cap: active, from the webhook", async () => {
    const id = uid();
    await userCreated(id);
    expect(await accessOf(id)).toBe("active");
  });

  it("invite_only: waitlisted from the webhook; an operator is active; a token-only user is gated", async () => {
    const id = uid();
    const operator = uid();
    const vars = { SIGNUP_MODE: "invite_only", PLATFORM_ADMIN_USER_IDS: operator };
    await userCreated(id, vars);
    await userCreated(operator, vars);
    expect(await accessOf(id)).toBe("waitlisted");
    expect(await accessOf(operator)).toBe("active");
    const tokenOnly = uid();
    expectProblem(
      await api("POST", "/v1/organizations", { as: tokenOnly, body: { name: "X" }, vars }),
      403,
      "NOT_ADMITTED",
    );
    expect(await accessOf(tokenOnly)).toBeNull();
    const me = await api("GET", "/v1/me", { as: tokenOnly, vars });
    expect(me.body.user.access).toBe("waitlisted");
    // In open mode the same token-only user creates an organization and becomes an active user.
    expect((await api("POST", "/v1/organizations", { as: tokenOnly, body: { name: "X" } })).status).toBe(201);
    expect(await accessOf(tokenOnly)).toBe("active");
  });

  it("open mode with the cap reached: a new user is waitlisted", async () => {
    const active = Number(await env.DB.prepare("SELECT count(*) AS n FROM admins WHERE access = 'active'").first("n"));
    const id = uid();
    await userCreated(id, { SIGNUP_CAP: String(active) });
    expect(await accessOf(id)).toBe("waitlisted");
  });
});

describe("the gated D1 handle", () => {
  const config = getConfig(env);

  it("gates drizzle queries (raw() and batch) the same way, returning their rows once admitted", async () => {
    const waiting = await seedUserWith("waitlisted");
    const active = await seedUserWith("active");
    const query = (userId: string) =>
      drizzle(gatedDb(env.DB, config, userId))
        .select({ id: admins.id, access: admins.access })
        .from(admins)
        .where(eq(admins.id, userId));
    // drizzle wraps what the handle threw; the router answers with its cause (errorResponse).
    await expect(query(waiting.id)).rejects.toMatchObject({ cause: { code: "NOT_ADMITTED" } });
    const response = errorResponse(await query(waiting.id).catch((e: unknown) => e), "req", new Request("http://x/"));
    expect(response.status).toBe(403);
    expect(((await response.json()) as { code: string }).code).toBe("NOT_ADMITTED");
    expect(await query(active.id)).toEqual([{ id: active.id, access: "active" }]);
    const db = drizzle(gatedDb(env.DB, config, waiting.id));
    await expect(
      db.batch([db.update(admins).set({ name: "Changed" }).where(eq(admins.id, waiting.id)), db.select().from(admins)]),
    ).rejects.toMatchObject({ code: "NOT_ADMITTED" });
    const name = await env.DB.prepare("SELECT name FROM admins WHERE id = ?").bind(waiting.id).first("name");
    expect(name).not.toBe("Changed");
  });
});
