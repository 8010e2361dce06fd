import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  changeProjectMemberRole,
  createProject,
  getProject,
  listProjectMembers,
  listProjects,
  removeProjectMember,
} from "../workers/core/projects";
import { createWindow } from "../workers/core/rate-limit";
import { auditOf, call, countingDb, expectProblem, seedOrg, seedProject, seedUser, uid } from "./helpers";
import { countingDb as inviteCountingDb, type TripCounter } from "./invite-helpers";

type Role = "owner" | "director" | "manager" | "member" | "guest";
type Seeded = { id: string; email: string };

async function projectRoleOf(projectId: string, userId: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT role FROM project_admins WHERE project_id = ? AND admin_id = ?")
    .bind(projectId, userId)
    .first<{ role: string }>();
  return row?.role ?? null;
}

/** An organization with one user per listed role besides its owner (typed as a tuple). */
async function team<R extends Role[]>(...roles: R) {
  const owner = await seedUser();
  const users: Seeded[] = [];
  for (const _ of roles) users.push(await seedUser());
  const org = await seedOrg(owner.id, { members: users.map((u, i) => ({ id: u.id, role: roles[i] as Role })) });
  return { org, owner, users: users as { [K in keyof R]: Seeded } };
}

describe("POST /v1/organizations/{orgId}/projects", () => {
  it("a manager creates a project and becomes its admin, audited", async () => {
    const { org, users } = await team("manager");
    const [manager] = users;
    const res = await call("POST", `/v1/organizations/${org.id}/projects`, {
      as: manager.id,
      body: { name: "  Apollo  " },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^prj_[0-9a-z]{26}$/),
      organizationId: org.id,
      name: "Apollo",
      createdAt: expect.any(String),
      role: "admin",
    });
    expect(await projectRoleOf(res.body.id, manager.id)).toBe("admin");
    const audit = await auditOf(org.id);
    expect(audit.map((a) => [a.action, a.actor_id, a.target_type, a.target_id])).toEqual([
      ["project.created", manager.id, "project", res.body.id],
      ["project_member.added", manager.id, "project_member", manager.id],
    ]);
    expect(audit[1]?.data).toMatchObject({ projectId: res.body.id, role: "admin" });
    const fetched = await call("GET", `/v1/projects/${res.body.id}`, { as: manager.id });
    expect(fetched.body).toEqual(res.body);
  });

  it("members and guests may not create projects (403), non-members get 404", async () => {
    const { org, users } = await team("member", "guest");
    for (const who of users) {
      const res = await call("POST", `/v1/organizations/${org.id}/projects`, { as: who.id, body: { name: "X" } });
      expectProblem(res, 403, "FORBIDDEN");
    }
    const stranger = await seedUser();
    expectProblem(
      await call("POST", `/v1/organizations/${org.id}/projects`, { as: stranger.id, body: { name: "X" } }),
      404,
      "NOT_FOUND",
    );
    const { results } = await env.DB.prepare("SELECT id FROM projects WHERE organization_id = ?").bind(org.id).all();
    expect(results).toEqual([]);
  });

  it.each([[{}], [{ name: "" }], [{ name: "a\nb" }], [{ name: "x".repeat(101) }], [{ name: "ok", role: "admin" }]])(
    "rejects %j with 400",
    async (body) => {
      const { org, owner } = await team();
      const res = await call("POST", `/v1/organizations/${org.id}/projects`, { as: owner.id, body });
      expectProblem(res, 400, "VALIDATION_FAILED");
    },
  );
});

describe("GET /v1/organizations/{orgId}/projects", () => {
  it("roles with projects:read_all see every project, with their own project role or null", async () => {
    const { org, owner, users } = await team("manager", "member");
    const [manager, member] = users;
    const p1 = await seedProject(org.id, [{ id: member.id, role: "viewer" }]);
    const p2 = await seedProject(org.id, [{ id: manager.id, role: "editor" }]);
    const p3 = await seedProject(org.id);
    for (const [who, roles] of [
      [owner, [null, null, null]],
      [manager, [null, "editor", null]],
    ] as const) {
      const res = await call("GET", `/v1/organizations/${org.id}/projects`, { as: who.id });
      expect(res.status).toBe(200);
      expect(res.body.data.map((p: { id: string; role: string | null }) => [p.id, p.role])).toEqual([
        [p1.id, roles[0]],
        [p2.id, roles[1]],
        [p3.id, roles[2]],
      ]);
      expect(res.body.nextCursor).toBeNull();
    }
  });

  it("members and guests see only the projects they belong to", async () => {
    const { org, users } = await team("member", "guest");
    const [member, guest] = users;
    const mine = await seedProject(org.id, [{ id: member.id, role: "editor" }]);
    const guests = await seedProject(org.id, [{ id: guest.id, role: "viewer" }]);
    await seedProject(org.id);
    const res = await call("GET", `/v1/organizations/${org.id}/projects`, { as: member.id });
    expect(res.body.data.map((p: { id: string; role: string }) => [p.id, p.role])).toEqual([[mine.id, "editor"]]);
    const forGuest = await call("GET", `/v1/organizations/${org.id}/projects`, { as: guest.id });
    expect(forGuest.body.data.map((p: { id: string }) => p.id)).toEqual([guests.id]);
  });

  it("pages with limit and cursor", async () => {
    const { org, owner } = await team();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await seedProject(org.id)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { data: { id: string }[]; nextCursor: string | null } } = await call(
        "GET",
        `/v1/organizations/${org.id}/projects?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { as: owner.id },
      );
      seen.push(...res.body.data.map((p) => p.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  it("is 404 for another organization's member, 400 for a bad limit or cursor", async () => {
    const { org } = await team();
    const { owner: otherOwner } = await team();
    expectProblem(await call("GET", `/v1/organizations/${org.id}/projects`, { as: otherOwner.id }), 404, "NOT_FOUND");
    const { org: mine, owner } = await team();
    for (const q of ["limit=0", "limit=101", "cursor=zzz"]) {
      expectProblem(
        await call("GET", `/v1/organizations/${mine.id}/projects?${q}`, { as: owner.id }),
        400,
        "VALIDATION_FAILED",
      );
    }
  });
});

describe("GET /v1/projects/{projectId}", () => {
  it("project members and org managers see it; other org members and outsiders get 404", async () => {
    const { org, users } = await team("manager", "member", "member");
    const [manager, inProject, notInProject] = users;
    const project = await seedProject(org.id, [{ id: inProject.id, role: "viewer" }], "Hermes");
    const asMember = await call("GET", `/v1/projects/${project.id}`, { as: inProject.id });
    expect(asMember.status).toBe(200);
    expect(asMember.body).toMatchObject({ id: project.id, organizationId: org.id, name: "Hermes", role: "viewer" });
    expect((await call("GET", `/v1/projects/${project.id}`, { as: manager.id })).body.role).toBeNull();
    expectProblem(await call("GET", `/v1/projects/${project.id}`, { as: notInProject.id }), 404, "NOT_FOUND");
    expectProblem(await call("GET", `/v1/projects/${project.id}`, { as: (await seedUser()).id }), 404, "NOT_FOUND");
    expectProblem(await call("GET", "/v1/projects/prj_nope", { as: manager.id }), 404, "NOT_FOUND");
  });
});

describe("GET /v1/projects/{projectId}/members", () => {
  it("anyone who can see the project lists its members by join time, paginated", async () => {
    const { org, owner, users } = await team("member", "member", "member");
    const [a, b, c] = users;
    const project = await seedProject(org.id, [
      { id: a.id, role: "admin" },
      { id: b.id, role: "editor" },
      { id: c.id, role: "viewer" },
    ]);
    const page1 = await call("GET", `/v1/projects/${project.id}/members?limit=2`, { as: c.id });
    expect(page1.status).toBe(200);
    expect(page1.body.data).toEqual([
      { userId: a.id, email: a.email, name: expect.any(String), role: "admin", joinedAt: expect.any(String) },
      { userId: b.id, email: b.email, name: expect.any(String), role: "editor", joinedAt: expect.any(String) },
    ]);
    const page2 = await call("GET", `/v1/projects/${project.id}/members?limit=2&cursor=${page1.body.nextCursor}`, {
      as: owner.id,
    });
    expect(page2.body).toEqual({ data: [expect.objectContaining({ userId: c.id, role: "viewer" })], nextCursor: null });
  });

  it("is 404 for an org member outside the project and for outsiders", async () => {
    const { org, users } = await team("member");
    const project = await seedProject(org.id);
    expectProblem(await call("GET", `/v1/projects/${project.id}/members`, { as: users[0].id }), 404, "NOT_FOUND");
    expectProblem(
      await call("GET", `/v1/projects/${project.id}/members`, { as: (await seedUser()).id }),
      404,
      "NOT_FOUND",
    );
  });
});

describe("PATCH /v1/projects/{projectId}/members/{userId}", () => {
  it("a project admin who is a plain org member changes a role, audited", async () => {
    const { org, users } = await team("member", "member");
    const [admin, viewer] = users;
    const project = await seedProject(org.id, [
      { id: admin.id, role: "admin" },
      { id: viewer.id, role: "viewer" },
    ]);
    const res = await call("PATCH", `/v1/projects/${project.id}/members/${viewer.id}`, {
      as: admin.id,
      body: { role: "editor" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      userId: viewer.id,
      email: viewer.email,
      name: expect.any(String),
      role: "editor",
      joinedAt: expect.any(String),
    });
    const audit = (await auditOf(org.id)).filter((a) => a.action === "project_member.role_changed");
    expect(audit).toEqual([
      {
        action: "project_member.role_changed",
        actor_id: admin.id,
        target_type: "project_member",
        target_id: viewer.id,
        data: { projectId: project.id, from: "viewer", to: "editor" },
      },
    ]);
  });

  it("an org manager outside the project manages it", async () => {
    const { org, users } = await team("manager", "member");
    const [manager, member] = users;
    const project = await seedProject(org.id, [{ id: member.id, role: "viewer" }]);
    const res = await call("PATCH", `/v1/projects/${project.id}/members/${member.id}`, {
      as: manager.id,
      body: { role: "admin" },
    });
    expect(res.status).toBe(200);
    expect(await projectRoleOf(project.id, member.id)).toBe("admin");
  });

  it("editors and viewers may not change roles (403); a non-member target is 404", async () => {
    const { org, owner, users } = await team("member", "member", "member");
    const [editor, viewer, outside] = users;
    const project = await seedProject(org.id, [
      { id: editor.id, role: "editor" },
      { id: viewer.id, role: "viewer" },
    ]);
    expectProblem(
      await call("PATCH", `/v1/projects/${project.id}/members/${viewer.id}`, {
        as: editor.id,
        body: { role: "admin" },
      }),
      403,
      "FORBIDDEN",
    );
    expectProblem(
      await call("PATCH", `/v1/projects/${project.id}/members/${viewer.id}`, {
        as: viewer.id,
        body: { role: "admin" },
      }),
      403,
      "FORBIDDEN",
    );
    expect(await projectRoleOf(project.id, viewer.id)).toBe("viewer");
    expectProblem(
      await call("PATCH", `/v1/projects/${project.id}/members/${outside.id}`, {
        as: owner.id,
        body: { role: "admin" },
      }),
      404,
      "NOT_FOUND",
    );
  });

  it("a project the caller cannot see is 404, and a bad role 400", async () => {
    const { org, users } = await team("member");
    const project = await seedProject(org.id, [{ id: users[0].id, role: "viewer" }]);
    const stranger = await seedUser();
    expectProblem(
      await call("PATCH", `/v1/projects/${project.id}/members/${users[0].id}`, {
        as: stranger.id,
        body: { role: "admin" },
      }),
      404,
      "NOT_FOUND",
    );
    const res = await call("PATCH", `/v1/projects/${project.id}/members/${users[0].id}`, {
      as: users[0].id,
      body: { role: "owner" },
    });
    expectProblem(res, 400, "VALIDATION_FAILED");
  });

  it("a project admin may demote the last project admin (org managers still manage the project)", async () => {
    const { org, owner, users } = await team("member");
    const project = await seedProject(org.id, [{ id: users[0].id, role: "admin" }]);
    const res = await call("PATCH", `/v1/projects/${project.id}/members/${users[0].id}`, {
      as: users[0].id,
      body: { role: "viewer" },
    });
    expect(res.status).toBe(200);
    const back = await call("PATCH", `/v1/projects/${project.id}/members/${users[0].id}`, {
      as: owner.id,
      body: { role: "admin" },
    });
    expect(back.body.role).toBe("admin");
  });
});

describe("DELETE /v1/projects/{projectId}/members/{userId}", () => {
  it("a project admin removes a member, who stays in the organization; audited", async () => {
    const { org, users } = await team("member", "member");
    const [admin, viewer] = users;
    const project = await seedProject(org.id, [
      { id: admin.id, role: "admin" },
      { id: viewer.id, role: "viewer" },
    ]);
    const res = await call("DELETE", `/v1/projects/${project.id}/members/${viewer.id}`, { as: admin.id });
    expect(res.status).toBe(204);
    expect(await projectRoleOf(project.id, viewer.id)).toBeNull();
    expect((await call("GET", `/v1/organizations/${org.id}`, { as: viewer.id })).status).toBe(200);
    expectProblem(await call("GET", `/v1/projects/${project.id}`, { as: viewer.id }), 404, "NOT_FOUND");
    const audit = (await auditOf(org.id)).filter((a) => a.target_type === "project_member");
    expect(audit.map((a) => [a.action, a.actor_id, a.target_id, a.data.projectId])).toEqual([
      ["project_member.removed", admin.id, viewer.id, project.id],
    ]);
  });

  it("any project member may leave (audited project_member.left), with an empty body of any type", async () => {
    const { org, users } = await team("guest");
    const project = await seedProject(org.id, [{ id: users[0].id, role: "viewer" }]);
    const res = await call("DELETE", `/v1/projects/${project.id}/members/${users[0].id}`, {
      as: users[0].id,
      rawBody: "",
      headers: { "Content-Type": "text/plain" },
    });
    expect(res.status).toBe(204);
    expect(await projectRoleOf(project.id, users[0].id)).toBeNull();
    const audit = (await auditOf(org.id)).filter((a) => a.target_type === "project_member");
    expect(audit.map((a) => [a.action, a.actor_id])).toEqual([["project_member.left", users[0].id]]);
  });

  it("viewers may not remove others (403); missing targets are 404; invisible projects are 404", async () => {
    const { org, owner, users } = await team("member", "member");
    const [a, b] = users;
    const project = await seedProject(org.id, [
      { id: a.id, role: "viewer" },
      { id: b.id, role: "editor" },
    ]);
    expectProblem(await call("DELETE", `/v1/projects/${project.id}/members/${b.id}`, { as: a.id }), 403, "FORBIDDEN");
    expect(await projectRoleOf(project.id, b.id)).toBe("editor");
    expectProblem(
      await call("DELETE", `/v1/projects/${project.id}/members/${uid()}`, { as: owner.id }),
      404,
      "NOT_FOUND",
    );
    // The org owner is not in the project: leaving it is 404, not a silent success.
    expectProblem(
      await call("DELETE", `/v1/projects/${project.id}/members/${owner.id}`, { as: owner.id }),
      404,
      "NOT_FOUND",
    );
    const stranger = await seedUser();
    expectProblem(
      await call("DELETE", `/v1/projects/${project.id}/members/${a.id}`, { as: stranger.id }),
      404,
      "NOT_FOUND",
    );
  });
});

describe("project members who outrank the actor in the organization", () => {
  // Guards issue 9 item 7: a project admin whose organization role is `member` could demote or
  // remove the organization's owner from the project. A project admin manages only project members
  // whose organization rank is not above their own (PRODUCT.md, Roles and permissions).
  async function setup() {
    const { org, owner, users } = await team("manager", "member", "member", "guest");
    const [manager, admin, peer, guest] = users;
    const project = await seedProject(org.id, [
      { id: admin.id, role: "admin" },
      { id: owner.id, role: "admin" },
      { id: manager.id, role: "editor" },
      { id: peer.id, role: "viewer" },
      { id: guest.id, role: "viewer" },
    ]);
    return { org, owner, manager, admin, peer, guest, project };
  }

  it("a project admin who is an org member may neither demote nor remove the org's owner or a manager (403, nothing changes)", async () => {
    const { org, owner, manager, admin, project } = await setup();
    for (const target of [owner, manager]) {
      const before = await projectRoleOf(project.id, target.id);
      const demoted = await call("PATCH", `/v1/projects/${project.id}/members/${target.id}`, {
        as: admin.id,
        body: { role: "viewer" },
      });
      expectProblem(demoted, 403, "FORBIDDEN");
      expectProblem(
        await call("DELETE", `/v1/projects/${project.id}/members/${target.id}`, { as: admin.id }),
        403,
        "FORBIDDEN",
      );
      expect(await projectRoleOf(project.id, target.id)).toBe(before);
    }
    expect((await auditOf(org.id)).filter((a) => a.target_type === "project_member")).toEqual([]);
  });

  it("the same project admin manages members of equal or lower org rank", async () => {
    const { admin, peer, guest, project } = await setup();
    const changed = await call("PATCH", `/v1/projects/${project.id}/members/${peer.id}`, {
      as: admin.id,
      body: { role: "editor" },
    });
    expect(changed.status, changed.text).toBe(200);
    expect((await call("DELETE", `/v1/projects/${project.id}/members/${guest.id}`, { as: admin.id })).status).toBe(204);
    expect(await projectRoleOf(project.id, guest.id)).toBeNull();
  });

  it("org managers are held to it too; the owner manages everyone; anyone may still leave", async () => {
    const { owner, manager, admin, project } = await setup();
    expectProblem(
      await call("PATCH", `/v1/projects/${project.id}/members/${owner.id}`, {
        as: manager.id,
        body: { role: "editor" },
      }),
      403,
      "FORBIDDEN",
    );
    const byOwner = await call("PATCH", `/v1/projects/${project.id}/members/${manager.id}`, {
      as: owner.id,
      body: { role: "viewer" },
    });
    expect(byOwner.status, byOwner.text).toBe(200);
    expect((await call("DELETE", `/v1/projects/${project.id}/members/${admin.id}`, { as: admin.id })).status).toBe(204);
  });

  it("the rank check holds inside the guarded write: a target promoted after the read is not demoted or removed", async () => {
    const { org, admin, peer, project } = await setup();
    const promote = () =>
      env.DB.prepare("UPDATE organization_users SET role = 'director' WHERE organization_id = ? AND user_id = ?")
        .bind(org.id, peer.id)
        .run();
    const demoteBack = () =>
      env.DB.prepare("UPDATE organization_users SET role = 'member' WHERE organization_id = ? AND user_id = ?")
        .bind(org.id, peer.id)
        .run();
    // The request reads (batch 0) while the peer is a member, then the peer is made a director
    // before its write (batch 1) runs: the write must refuse, and the retry's fresh read says 403.
    const racing = (counter: TripCounter) => {
      counter.beforeBatch = async (index) => {
        if (index === 1) await promote();
      };
      return inviteCountingDb(env.DB, counter);
    };
    const now = Date.now();
    const change = { projectId: project.id, actorId: admin.id, targetId: peer.id, now };
    await expect(changeProjectMemberRole(racing({ trips: 0 }), { ...change, role: "editor" })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    expect(await projectRoleOf(project.id, peer.id)).toBe("viewer");
    await demoteBack();
    await expect(removeProjectMember(racing({ trips: 0 }), change)).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await projectRoleOf(project.id, peer.id)).toBe("viewer");
    expect((await auditOf(org.id)).filter((a) => a.target_type === "project_member")).toEqual([]);
  });
});

describe("D1 round trips", () => {
  it("create 2, list 1, read 1, member list 1, role change 2, removal 2", async () => {
    const { org, owner, users } = await team("member");
    const now = Date.now();
    const trips = async (run: (db: D1Database) => Promise<unknown>) => {
      const counter = countingDb(env.DB);
      await run(counter.db);
      return counter.roundTrips();
    };
    let projectId = "";
    expect(
      await trips(async (db) => {
        const rate = createWindow(owner.id, 100, now);
        projectId = (await createProject(db, { orgId: org.id, actorId: owner.id, name: "Counted", now, rate })).id;
      }),
    ).toBe(2);
    await env.DB.prepare(
      "INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at) VALUES (?, ?, 'viewer', ?, ?)",
    )
      .bind(projectId, users[0].id, now, now)
      .run();
    const base = { projectId, actorId: owner.id, targetId: users[0].id, now };
    expect(await trips((db) => listProjects(db, org.id, owner.id, { limit: 50 }))).toBe(1);
    expect(await trips((db) => getProject(db, projectId, owner.id))).toBe(1);
    expect(await trips((db) => listProjectMembers(db, projectId, owner.id, { limit: 50 }))).toBe(1);
    expect(await trips((db) => changeProjectMemberRole(db, { ...base, role: "editor" }))).toBe(2);
    expect(await trips((db) => removeProjectMember(db, base))).toBe(2);
  });
});
