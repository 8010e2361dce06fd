import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RouteDefinition } from "../workers/api/route";
import { routes } from "../workers/api/routes";
import { call, expectProblem, seedOrg, seedProject, seedUser } from "./helpers";
import { seedInvite } from "./invite-helpers";

/**
 * Sweeps generated from the route table (like unkey's runCommonRouteTests), so a route is covered
 * the day it is added: every `auth: true` route answers 401 without credentials, and every route
 * with an id in its path answers 404 to an owner of another organization, changing nothing, and
 * every operators-only route (/v1/platform/…) answers 404 to a signed-in user who is not an
 * operator (PLATFORM_ADMIN_USER_IDS), changing nothing.
 */

const label = (r: RouteDefinition) => `${r.method.toUpperCase()} ${r.path}`;
const idNames = (r: RouteDefinition) => [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
const fill = (r: RouteDefinition, ids: Record<string, string>) =>
  r.path.replace(/:(\w+)/g, (_, name: string) => {
    const id = ids[name];
    if (id === undefined) throw new Error(`${label(r)}: the sweep has no id for :${name}; add one below`);
    return encodeURIComponent(id);
  });

// A valid body for each id route that takes one, so the request reaches its authorization check.
const BODIES: Record<string, unknown> = {
  "POST /v1/organizations/:orgId/invites": { emails: ["sweep@example.com"] },
  "POST /v1/projects/:projectId/invites": { emails: ["sweep@example.com"] },
  "PATCH /v1/organizations/:orgId": { name: "Renamed by a stranger" },
  "PATCH /v1/organizations/:orgId/members/:userId": { role: "guest" },
  "POST /v1/organizations/:orgId/projects": { name: "Stranger's project" },
  "PATCH /v1/projects/:projectId/members/:userId": { role: "viewer" },
  "POST /v1/organizations/:orgId/members": { userId: "user_sweep_nobody" },
  "POST /v1/organizations/:orgId/domains": { domain: "sweep-stranger.com" },
  "PATCH /v1/organizations/:orgId/domains/:domain": { enrollment: "auto" },
  "POST /v1/organizations/:orgId/join-requests": {},
  "POST /v1/join-requests/:requestId/approve": { role: "member" },
};

const authRoutes = routes.filter((r) => r.auth);
const operatorRoutes = routes.filter((r) => r.path.startsWith("/v1/platform/"));

/** One event of the organization (the trigger on audit_events writes its outbox row). */
async function seedEvent(orgId: string, actorId: string): Promise<string> {
  const id = `evt_sweep_${crypto.randomUUID().replaceAll("-", "")}`;
  await env.DB.prepare(
    `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
     VALUES (?, ?, ?, 'organization.updated', 'organization', ?, '{}', ?)`,
  )
    .bind(id, orgId, actorId, orgId, Date.now())
    .run();
  return id;
}
const idRoutes = routes.filter((r) => r.auth && idNames(r).length > 0);

describe("every auth: true route, without credentials", () => {
  it("has routes to sweep", () => {
    expect(authRoutes.length).toBeGreaterThan(20);
  });
  it.each(authRoutes.map((r) => [label(r), r] as const))("%s → 401 UNAUTHENTICATED", async (_, route) => {
    const path = fill(route, {
      orgId: "org_x",
      projectId: "prj_x",
      inviteId: "inv_x",
      userId: "user_x",
      eventId: "evt_x",
      domain: "x.com",
      requestId: "jrq_x",
    });
    const res = await call(route.method.toUpperCase(), path, { body: BODIES[label(route)] });
    expectProblem(res, 401, "UNAUTHENTICATED");
  });
});

describe("every route with an id, for another organization's resource", () => {
  it("has a body for every id route that takes one", () => {
    expect(idRoutes.filter((r) => r.body !== undefined && !(label(r) in BODIES)).map(label)).toEqual([]);
  });

  it.each(idRoutes.map((r) => [label(r), r] as const))("%s → 404, nothing changes", async (_, route) => {
    const ownerA = await seedUser();
    const memberA = await seedUser();
    const orgA = await seedOrg(ownerA.id, { members: [{ id: memberA.id, role: "member" }] });
    const projectA = await seedProject(orgA.id, [{ id: memberA.id, role: "viewer" }]);
    const inviteA = await seedInvite({ orgId: orgA.id, email: `sweep-${orgA.id}@example.com`, invitedBy: ownerA.id });
    const eventA = await seedEvent(orgA.id, ownerA.id);
    const domainA = `sweep-${orgA.id.slice(-8).toLowerCase()}.com`;
    const requester = await seedUser();
    const requestA = `jrq_sweep_${crypto.randomUUID().replaceAll("-", "")}`;
    const at = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO organization_domains (organization_id, domain, enrollment, verified_by, created_at, updated_at)
         VALUES (?, ?, 'request', ?, ?, ?)`,
      ).bind(orgA.id, domainA, ownerA.id, at, at),
      env.DB.prepare(
        `INSERT INTO join_requests (id, organization_id, user_id, status, domain, created_at, updated_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?)`,
      ).bind(requestA, orgA.id, requester.id, domainA, at, at),
    ]);
    const stranger = await seedUser();
    await seedOrg(stranger.id);
    const snapshot = async () =>
      await env.DB.batch([
        env.DB.prepare("SELECT * FROM organizations WHERE id = ?").bind(orgA.id),
        env.DB.prepare("SELECT * FROM organization_users WHERE organization_id = ? ORDER BY user_id").bind(orgA.id),
        env.DB.prepare("SELECT * FROM projects WHERE organization_id = ? ORDER BY id").bind(orgA.id),
        env.DB.prepare("SELECT * FROM project_admins WHERE project_id = ? ORDER BY admin_id").bind(projectA.id),
        env.DB.prepare("SELECT * FROM invites WHERE organization_id = ? ORDER BY id").bind(orgA.id),
        env.DB.prepare("SELECT id FROM audit_events WHERE organization_id = ? ORDER BY id").bind(orgA.id),
        env.DB.prepare("SELECT * FROM events WHERE event_id = ?").bind(eventA),
        env.DB.prepare("SELECT * FROM organization_domains WHERE organization_id = ? ORDER BY domain").bind(orgA.id),
        env.DB.prepare("SELECT * FROM join_requests WHERE organization_id = ? ORDER BY id").bind(orgA.id),
      ]);
    const before = (await snapshot()).map((r) => r.results);
    const path = fill(route, {
      orgId: orgA.id,
      projectId: projectA.id,
      inviteId: inviteA.id,
      userId: memberA.id,
      eventId: eventA,
      domain: domainA,
      requestId: requestA,
    });
    const res = await call(route.method.toUpperCase(), path, { as: stranger.id, body: BODIES[label(route)] });
    expect(res.status, res.text).toBe(404);
    expect(["NOT_FOUND", "INVITE_NOT_FOUND"]).toContain(res.body.code);
    expect((await snapshot()).map((r) => r.results)).toEqual(before);
  });
});

describe("every operators-only route, for a signed-in user who is not an operator", () => {
  it("has routes to sweep", () => {
    expect(operatorRoutes.map(label)).toEqual(
      expect.arrayContaining(["GET /v1/platform/events", "POST /v1/platform/events/:eventId/redeliver"]),
    );
  });

  it.each(operatorRoutes.map((r) => [label(r), r] as const))("%s → 404, nothing changes", async (_, route) => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const eventId = await seedEvent(org.id, owner.id);
    const snapshot = async () => await env.DB.prepare("SELECT * FROM events WHERE event_id = ?").bind(eventId).all();
    const before = (await snapshot()).results;
    // The organization's own owner, and with webhooks on (so redeliver would otherwise act).
    const res = await call(route.method.toUpperCase(), fill(route, { eventId }), {
      as: owner.id,
      body: BODIES[label(route)],
      vars: {
        EVENTS_WEBHOOK_URL: "http://127.0.0.1:9/events",
        EVENTS_WEBHOOK_SECRET: "whsec_c3dlZXAtc2VjcmV0LXNlY3JldA==",
      },
    });
    expectProblem(res, 404, "NOT_FOUND");
    expect((await snapshot()).results).toEqual(before);
  });
});
