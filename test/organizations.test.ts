import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  createOrganization,
  deleteOrganization,
  getOrganization,
  listOrganizations,
  updateOrganization,
} from "../workers/core/organizations";
import { createWindow } from "../workers/core/rate-limit";
import { deriveSlug, SLUG_PATTERN, withRandomSuffix } from "../workers/core/slugs";
import { auditOf, call, countingDb, expectProblem, seedOrg, seedProject, seedUser, uid } from "./helpers";

describe("POST /v1/organizations", () => {
  it("creates an organization whose creator is its owner, with a slug derived from the name, audited", async () => {
    const user = await seedUser();
    const name = `Acme ${uid("x")}`;
    const res = await call("POST", "/v1/organizations", { as: user.id, body: { name } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^org_[0-9a-z]{26}$/),
      name,
      slug: deriveSlug(name),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      role: "owner",
      maxMembers: null,
    });
    const members = await call("GET", `/v1/organizations/${res.body.id}/members`, { as: user.id });
    expect(members.body.data).toEqual([
      { userId: user.id, email: user.email, name: expect.any(String), role: "owner", joinedAt: res.body.createdAt },
    ]);
    const audit = await auditOf(res.body.id);
    expect(audit.map((a) => [a.action, a.actor_id, a.target_type, a.target_id])).toEqual([
      ["organization.created", user.id, "organization", res.body.id],
      ["member.added", user.id, "member", user.id],
    ]);
    expect(audit[1]?.data.role).toBe("owner");
  });

  it("works for a signed-in user whose Clerk webhook has not arrived yet", async () => {
    const userId = uid();
    const res = await call("POST", "/v1/organizations", { as: userId, body: { name: "Early bird" } });
    expect(res.status).toBe(201);
    const me = await call("GET", "/v1/me", { as: userId });
    expect(me.body.organizations.map((o: { id: string }) => o.id)).toEqual([res.body.id]);
  });

  it("takes an explicit slug; the same slug again is 409 SLUG_TAKEN and creates nothing", async () => {
    const user = await seedUser();
    const slug = `team-${crypto.randomUUID().slice(0, 8)}`;
    const first = await call("POST", "/v1/organizations", { as: user.id, body: { name: "Team", slug } });
    expect(first.status).toBe(201);
    expect(first.body.slug).toBe(slug);
    const again = await call("POST", "/v1/organizations", { as: user.id, body: { name: "Other", slug } });
    expectProblem(again, 409, "SLUG_TAKEN");
    const list = await call("GET", "/v1/organizations", { as: user.id });
    expect(list.body.data.map((o: { id: string }) => o.id)).toEqual([first.body.id]);
  });

  it("two concurrent requests for one slug: exactly one wins", async () => {
    const [a, b] = [await seedUser(), await seedUser()];
    const slug = `race-${crypto.randomUUID().slice(0, 8)}`;
    const results = await Promise.all([
      call("POST", "/v1/organizations", { as: a.id, body: { name: "A", slug } }),
      call("POST", "/v1/organizations", { as: b.id, body: { name: "B", slug } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it("a derived slug that is taken gets a random suffix", async () => {
    const user = await seedUser();
    const name = `Collide ${uid("c")}`;
    const first = await call("POST", "/v1/organizations", { as: user.id, body: { name } });
    const second = await call("POST", "/v1/organizations", { as: user.id, body: { name } });
    expect(second.status).toBe(201);
    expect(first.body.slug).toBe(deriveSlug(name));
    expect(second.body.slug).toMatch(new RegExp(`^${deriveSlug(name)}-[0-9a-z]{6}$`));
  });

  it.each([["Bad_Slug"], ["-leading"], ["trailing-"], ["UPPER"], ["a".repeat(49)], [""]])(
    "rejects the slug %j with 400",
    async (slug) => {
      const user = await seedUser();
      const res = await call("POST", "/v1/organizations", { as: user.id, body: { name: "X", slug } });
      expectProblem(res, 400, "VALIDATION_FAILED");
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(["slug"]);
    },
  );

  it("requires a name", async () => {
    const user = await seedUser();
    const res = await call("POST", "/v1/organizations", { as: user.id, body: { slug: "no-name" } });
    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(res.body.errors[0].path).toBe("name");
  });

  it("requires authentication", async () => {
    expectProblem(await call("POST", "/v1/organizations", { body: { name: "X" } }), 401, "UNAUTHENTICATED");
  });
});

describe("slug derivation", () => {
  it.each([
    ["Café Crème, Ltd.", "cafe-creme-ltd"],
    ["  Hello   World  ", "hello-world"],
    ["ÅNGSTRÖM—Labs", "angstrom-labs"],
    ["ﬁnance ２０２６", "finance-2026"],
    ["!!!", "org"],
    ["日本語", "org"],
  ])("%j -> %j", (name, slug) => {
    expect(deriveSlug(name)).toBe(slug);
  });

  it("cuts at 40 characters without a trailing hyphen, and stays a valid slug with its suffix", () => {
    const slug = deriveSlug(`${"a".repeat(39)} bcd`);
    expect(slug).toBe("a".repeat(39));
    const long = deriveSlug("x".repeat(100));
    expect(long).toHaveLength(40);
    expect(withRandomSuffix(long)).toMatch(SLUG_PATTERN);
    expect(withRandomSuffix(long)).toMatch(/^x{40}-[0-9a-z]{6}$/);
  });
});

describe("GET /v1/organizations", () => {
  it("lists the caller's organizations in the order they joined, with their role, paginated", async () => {
    const user = await seedUser();
    const other = await seedUser();
    const a = await seedOrg(user.id);
    const b = await seedOrg(other.id, { members: [{ id: user.id, role: "guest" }] });
    const c = await seedOrg(user.id);
    await seedOrg(other.id); // not the caller's
    const page1 = await call("GET", "/v1/organizations?limit=2", { as: user.id });
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((o: { id: string; role: string }) => [o.id, o.role])).toEqual([
      [a.id, "owner"],
      [b.id, "guest"],
    ]);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await call("GET", `/v1/organizations?limit=2&cursor=${page1.body.nextCursor}`, { as: user.id });
    expect(page2.body.data.map((o: { id: string }) => o.id)).toEqual([c.id]);
    expect(page2.body.nextCursor).toBeNull();
  });

  it("an exact last page has nextCursor null", async () => {
    const user = await seedUser();
    await seedOrg(user.id);
    await seedOrg(user.id);
    const res = await call("GET", "/v1/organizations?limit=2", { as: user.id });
    expect(res.body.data).toHaveLength(2);
    expect(res.body.nextCursor).toBeNull();
  });

  it("a user in no organization gets an empty list", async () => {
    const res = await call("GET", "/v1/organizations", { as: uid() });
    expect(res.body).toEqual({ data: [], nextCursor: null });
  });

  it.each([
    ["limit=0"],
    ["limit=101"],
    ["limit=abc"],
    ["limit=1.5"],
    ["cursor=%%%garbage"],
    ["cursor=bm90LWpzb24"],
    [`cursor=${btoa(JSON.stringify(["x", "y"]))}`],
    ["unknown=1"],
    ["limit=1&limit=2"],
  ])("rejects ?%s with 400", async (query) => {
    const user = await seedUser();
    expectProblem(await call("GET", `/v1/organizations?${query}`, { as: user.id }), 400, "VALIDATION_FAILED");
  });
});

describe("GET /v1/organizations/{orgId}", () => {
  it("shows the organization to every member, guests included, with their own role", async () => {
    const owner = await seedUser();
    const guest = await seedUser();
    const org = await seedOrg(owner.id, { name: "Visible", members: [{ id: guest.id, role: "guest" }] });
    const res = await call("GET", `/v1/organizations/${org.id}`, { as: guest.id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: org.id, name: "Visible", slug: org.slug, role: "guest", maxMembers: null });
    expect((await call("GET", `/v1/organizations/${org.id}`, { as: owner.id })).body.role).toBe("owner");
  });

  it("is 404 for a non-member and for an unknown id (no existence oracle)", async () => {
    const owner = await seedUser();
    const stranger = await seedUser();
    const org = await seedOrg(owner.id);
    expectProblem(await call("GET", `/v1/organizations/${org.id}`, { as: stranger.id }), 404, "NOT_FOUND");
    expectProblem(await call("GET", "/v1/organizations/org_doesnotexist", { as: stranger.id }), 404, "NOT_FOUND");
  });

  it("serves legacy, unprefixed ids", async () => {
    const owner = await seedUser();
    const id = `legacy${crypto.randomUUID().slice(0, 8)}`;
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, 'Legacy', ?, 1, 1)",
      ).bind(id, id),
      env.DB.prepare(
        "INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at) VALUES (?, ?, 'owner', 1, 1)",
      ).bind(id, owner.id),
    ]);
    const res = await call("GET", `/v1/organizations/${id}`, { as: owner.id });
    expect(res.status).toBe(200);
    expect(res.body.createdAt).toBe("1970-01-01T00:00:00.001Z");
  });

  it("rejects what cannot be an id with 400; an id with a space is an id (404 when unknown)", async () => {
    const user = await seedUser();
    expectProblem(await call("GET", "/v1/organizations/bad%0Aid", { as: user.id }), 400, "VALIDATION_FAILED");
    expectProblem(await call("GET", "/v1/organizations/bad%20id", { as: user.id }), 404, "NOT_FOUND");
  });
});

describe("PATCH /v1/organizations/{orgId}", () => {
  it("owners and directors rename it and set or lift the seat limit, audited", async () => {
    const owner = await seedUser();
    const director = await seedUser();
    const org = await seedOrg(owner.id, { name: "Before", members: [{ id: director.id, role: "director" }] });
    const renamed = await call("PATCH", `/v1/organizations/${org.id}`, { as: owner.id, body: { name: "  After  " } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: org.id, name: "After", role: "owner", maxMembers: null });
    const limited = await call("PATCH", `/v1/organizations/${org.id}`, { as: director.id, body: { maxMembers: 10 } });
    expect(limited.body).toMatchObject({ name: "After", maxMembers: 10, role: "director" });
    const lifted = await call("PATCH", `/v1/organizations/${org.id}`, { as: director.id, body: { maxMembers: null } });
    expect(lifted.body.maxMembers).toBeNull();
    const audit = (await auditOf(org.id)).filter((a) => a.action === "organization.updated");
    expect(audit.map((a) => [a.actor_id, a.data])).toEqual([
      [owner.id, { name: { from: "Before", to: "After" } }],
      [director.id, { maxMembers: { from: null, to: 10 } }],
      [director.id, { maxMembers: { from: 10, to: null } }],
    ]);
  });

  it("is 403 FORBIDDEN for managers, members and guests, and changes nothing", async () => {
    const owner = await seedUser();
    const [manager, member, guest] = [await seedUser(), await seedUser(), await seedUser()];
    const org = await seedOrg(owner.id, {
      name: "Same",
      members: [
        { id: manager.id, role: "manager" },
        { id: member.id, role: "member" },
        { id: guest.id, role: "guest" },
      ],
    });
    for (const who of [manager, member, guest]) {
      const res = await call("PATCH", `/v1/organizations/${org.id}`, { as: who.id, body: { name: "Hijacked" } });
      expectProblem(res, 403, "FORBIDDEN");
    }
    expect((await call("GET", `/v1/organizations/${org.id}`, { as: owner.id })).body.name).toBe("Same");
  });

  it("is 404 for a non-member", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const res = await call("PATCH", `/v1/organizations/${org.id}`, { as: (await seedUser()).id, body: { name: "X" } });
    expectProblem(res, 404, "NOT_FOUND");
  });

  it.each([
    [{}],
    [{ maxMembers: 0 }],
    [{ maxMembers: -1 }],
    [{ maxMembers: 1.5 }],
    [{ maxMembers: 100_001 }],
    [{ maxMembers: "10" }],
    [{ name: "" }],
    [{ name: null }],
    [{ slug: "cannot-change" }],
  ])("rejects %j with 400", async (body) => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    expectProblem(await call("PATCH", `/v1/organizations/${org.id}`, { as: owner.id, body }), 400, "VALIDATION_FAILED");
  });
});

describe("DELETE /v1/organizations/{orgId}", () => {
  it("an owner deletes it with its projects, memberships and invites; the audit log keeps it", async () => {
    const owner = await seedUser();
    const member = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: member.id, role: "member" }] });
    const project = await seedProject(org.id, [{ id: member.id, role: "editor" }]);
    const res = await call("DELETE", `/v1/organizations/${org.id}`, { as: owner.id });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expectProblem(await call("GET", `/v1/organizations/${org.id}`, { as: owner.id }), 404, "NOT_FOUND");
    expectProblem(await call("GET", `/v1/projects/${project.id}`, { as: member.id }), 404, "NOT_FOUND");
    const counts = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM organization_users WHERE organization_id = ?1) AS members,
              (SELECT count(*) FROM projects WHERE organization_id = ?1) AS projects,
              (SELECT count(*) FROM project_admins WHERE project_id = ?2) AS project_members`,
    )
      .bind(org.id, project.id)
      .first();
    expect(counts).toEqual({ members: 0, projects: 0, project_members: 0 });
    const audit = await auditOf(org.id);
    expect(audit.map((a) => [a.action, a.actor_id])).toEqual([["organization.deleted", owner.id]]);
  });

  it("is 403 FORBIDDEN for every role below owner", async () => {
    const owner = await seedUser();
    const director = await seedUser();
    const org = await seedOrg(owner.id, { members: [{ id: director.id, role: "director" }] });
    expectProblem(await call("DELETE", `/v1/organizations/${org.id}`, { as: director.id }), 403, "FORBIDDEN");
    expect((await call("GET", `/v1/organizations/${org.id}`, { as: owner.id })).status).toBe(200);
  });

  it("is 404 for a non-member and for an already deleted organization", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    expectProblem(await call("DELETE", `/v1/organizations/${org.id}`, { as: (await seedUser()).id }), 404, "NOT_FOUND");
    expect((await call("DELETE", `/v1/organizations/${org.id}`, { as: owner.id })).status).toBe(204);
    expectProblem(await call("DELETE", `/v1/organizations/${org.id}`, { as: owner.id }), 404, "NOT_FOUND");
  });
});

describe("D1 round trips", () => {
  it("create 1, list 1, read 1, update 2, delete 2", async () => {
    const userId = uid();
    const now = Date.now();
    const trips = async (run: (db: D1Database) => Promise<unknown>) => {
      const counter = countingDb(env.DB);
      await run(counter.db);
      return counter.roundTrips();
    };
    let orgId = "";
    expect(
      await trips(async (db) => {
        orgId = (await createOrganization(db, { userId, name: "Counted", now, rate: createWindow(userId, 100, now) }))
          .id;
      }),
    ).toBe(1);
    expect(await trips((db) => listOrganizations(db, userId, { limit: 50 }))).toBe(1);
    expect(await trips((db) => getOrganization(db, orgId, userId))).toBe(1);
    expect(await trips((db) => updateOrganization(db, { orgId, actorId: userId, name: "Recounted", now }))).toBe(2);
    expect(await trips((db) => deleteOrganization(db, orgId, userId, now))).toBe(2);
  });
});
