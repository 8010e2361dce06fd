import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectProblem, seedOrg, seedProject, seedUser, uid } from "./helpers";
import { inviteRow, seedInvite } from "./invite-helpers";

/**
 * Ids in paths are opaque (API.md): any id a row can have, 1–255 characters without control
 * characters, legacy ones included. Guards issue 9 item 3: a legacy organization `acme corp` was
 * listed by GET /v1/organizations but unreachable at GET /v1/organizations/acme%20corp (400).
 * Every id kind that appears in a path (organization, project, invite, member = user id) is
 * exercised with a space and with non-ASCII.
 */
const shapes = {
  space: (kind: string) => `${kind} legacy ${uid("x")}`,
  "non-ASCII": (kind: string) => `${kind}-Zürich-東京-${uid("x")}`,
};

/** A path segment as a client sends it. */
const seg = encodeURIComponent;

async function renameId(table: string, from: string, to: string): Promise<void> {
  await env.DB.prepare(`UPDATE ${table} SET id = ? WHERE id = ?`).bind(to, from).run();
}

describe.each(Object.entries(shapes))("path ids with a %s", (_shape, make) => {
  it("organization: listed, then read, member-listed and renamed by its id", async () => {
    const owner = await seedUser();
    const seeded = await seedOrg(owner.id);
    const orgId = make("org");
    // Legacy rows kept their ids: give the seeded organization one (no foreign key blocks it yet).
    await env.DB.batch([
      env.DB.prepare("PRAGMA defer_foreign_keys = ON"),
      env.DB.prepare("UPDATE organizations SET id = ? WHERE id = ?").bind(orgId, seeded.id),
      env.DB.prepare("UPDATE organization_users SET organization_id = ? WHERE organization_id = ?").bind(
        orgId,
        seeded.id,
      ),
    ]);
    const listed = await call("GET", "/v1/organizations", { as: owner.id });
    expect(listed.body.data.map((o: any) => o.id)).toContain(orgId);
    const read = await call("GET", `/v1/organizations/${seg(orgId)}`, { as: owner.id });
    expect(read.status, read.text).toBe(200);
    expect(read.body.id).toBe(orgId);
    const members = await call("GET", `/v1/organizations/${seg(orgId)}/members`, { as: owner.id });
    expect(members.body.data.map((m: any) => m.userId)).toEqual([owner.id]);
    const renamed = await call("PATCH", `/v1/organizations/${seg(orgId)}`, { as: owner.id, body: { name: "Renamed" } });
    expect(renamed.body).toMatchObject({ id: orgId, name: "Renamed" });
  });

  it("project: read and its members listed by its id", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const seeded = await seedProject(org.id);
    const projectId = make("prj");
    await renameId("projects", seeded.id, projectId);
    await env.DB.prepare(
      "INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at) VALUES (?, ?, 'admin', 1, 1)",
    )
      .bind(projectId, owner.id)
      .run();
    const read = await call("GET", `/v1/projects/${seg(projectId)}`, { as: owner.id });
    expect(read.status, read.text).toBe(200);
    expect(read.body).toMatchObject({ id: projectId, organizationId: org.id, role: "admin" });
    const members = await call("GET", `/v1/projects/${seg(projectId)}/members`, { as: owner.id });
    expect(members.body.data.map((m: any) => m.userId)).toEqual([owner.id]);
  });

  it("invite: revoked by its id", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const seeded = await seedInvite({
      orgId: org.id,
      email: `${uid("to").toLowerCase()}@example.com`,
      invitedBy: owner.id,
    });
    const inviteId = make("inv");
    await renameId("invites", seeded.id, inviteId);
    const revoked = await call("DELETE", `/v1/invites/${seg(inviteId)}`, { as: owner.id });
    expect(revoked.status, revoked.text).toBe(204);
    expect((await inviteRow(inviteId)).status).toBe("revoked");
  });

  it("member (user id): role changed, project role changed and removed by the user's id", async () => {
    const owner = await seedUser();
    const legacy = await seedUser({ id: make("user") });
    const org = await seedOrg(owner.id, { members: [{ id: legacy.id, role: "member" }] });
    const project = await seedProject(org.id, [{ id: legacy.id, role: "viewer" }]);
    const changed = await call("PATCH", `/v1/organizations/${org.id}/members/${seg(legacy.id)}`, {
      as: owner.id,
      body: { role: "manager" },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({ userId: legacy.id, role: "manager", email: legacy.email });
    const projectRole = await call("PATCH", `/v1/projects/${project.id}/members/${seg(legacy.id)}`, {
      as: owner.id,
      body: { role: "editor" },
    });
    expect(projectRole.body).toMatchObject({ userId: legacy.id, role: "editor" });
    const removed = await call("DELETE", `/v1/organizations/${org.id}/members/${seg(legacy.id)}`, { as: owner.id });
    expect(removed.status, removed.text).toBe(204);
    // And the user themselves, signed in with that id, sees their (now empty) memberships.
    const me = await call("GET", "/v1/me", { as: legacy.id });
    expect(me.body.user.id).toBe(legacy.id);
    expect(me.body.organizations).toEqual([]);
  });
});

describe("what is not an id → 400, nothing read", () => {
  it.each([
    ["a control character (LF)", "a%0Ab"],
    ["a NUL", "a%00b"],
    ["a C1 control character", "a%C2%85b"],
    ["256 characters", "x".repeat(256)],
    ["a malformed escape", "50%off"],
  ])("%s", async (_label, segment) => {
    const user = await seedUser();
    expectProblem(await call("GET", `/v1/organizations/${segment}`, { as: user.id }), 400, "VALIDATION_FAILED");
  });

  it("255 characters (or 255 non-ASCII ones) are an id: 404 for one that does not exist", async () => {
    const user = await seedUser();
    for (const id of ["x".repeat(255), "ü".repeat(255)]) {
      expectProblem(await call("GET", `/v1/organizations/${seg(id)}`, { as: user.id }), 404, "NOT_FOUND");
    }
  });
});
