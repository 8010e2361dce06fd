import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RouteDefinition } from "../workers/api/route";
import { routes } from "../workers/api/routes";
import { call, expectProblem, seedOrg, seedProject, seedUser } from "./helpers";
import { seedInvite } from "./invite-helpers";

/**
 * Sweeps generated from the route table (like unkey's runCommonRouteTests), so a route is covered
 * the day it is added: every `auth: true` route answers 401 without credentials, and every route
 * with an id in its path answers 404 to an owner of another organization, changing nothing.
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
};

const authRoutes = routes.filter((r) => r.auth);
const idRoutes = routes.filter((r) => r.auth && idNames(r).length > 0);

describe("every auth: true route, without credentials", () => {
  it("has routes to sweep", () => {
    expect(authRoutes.length).toBeGreaterThan(20);
  });
  it.each(authRoutes.map((r) => [label(r), r] as const))("%s → 401 UNAUTHENTICATED", async (_, route) => {
    const path = fill(route, { orgId: "org_x", projectId: "prj_x", inviteId: "inv_x", userId: "user_x" });
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
      ]);
    const before = (await snapshot()).map((r) => r.results);
    const path = fill(route, { orgId: orgA.id, projectId: projectA.id, inviteId: inviteA.id, userId: memberA.id });
    const res = await call(route.method.toUpperCase(), path, { as: stranger.id, body: BODIES[label(route)] });
    expect(res.status, res.text).toBe(404);
    expect(["NOT_FOUND", "INVITE_NOT_FOUND"]).toContain(res.body.code);
    expect((await snapshot()).map((r) => r.results)).toEqual(before);
  });
});
