import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { canActOnMember, canGrantOrgRole, hasPermission, ORG_ROLES, type OrgRole } from "../workers/core/roles";
import { call, expectProblem, seedOrg, seedProject, seedUser } from "./helpers";

/**
 * PRODUCT.md's permission table and membership rules, one test each, through the HTTP API.
 */
type Seeded = { id: string; email: string };

async function team<R extends OrgRole[]>(...roles: R) {
  const owner = await seedUser();
  const users: Seeded[] = [];
  for (const _ of roles) users.push(await seedUser());
  const org = await seedOrg(owner.id, { members: users.map((u, i) => ({ id: u.id, role: roles[i] as OrgRole })) });
  return { org, owner, users: users as { [K in keyof R]: Seeded } };
}

async function roleOf(orgId: string, userId: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT role FROM organization_users WHERE organization_id = ? AND user_id = ?")
    .bind(orgId, userId)
    .first<{ role: string }>();
  return row?.role ?? null;
}

async function auditCount(orgId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE organization_id = ?")
    .bind(orgId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("the permission table, role by role", () => {
  const managers: OrgRole[] = ["owner", "director", "manager"];

  it.each(ORG_ROLES.map((r) => [r]))("%s", async (role) => {
    const { org, owner, users } = await team("member", "member");
    const [target] = users;
    let actor: Seeded = owner;
    if (role !== "owner") {
      actor = await seedUser();
      await env.DB.prepare(
        "INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
      )
        .bind(org.id, actor.id, role, Date.now(), Date.now())
        .run();
    }
    const project = await seedProject(org.id, [{ id: target.id, role: "viewer" }]);
    const as = { as: actor.id };
    const expectAllowed = (res: { status: number; body: any }, allowed: boolean, ok: number) => {
      if (allowed) expect(res.status).toBe(ok);
      else expectProblem(res as never, 403, "FORBIDDEN");
    };

    // org:read — everyone, guests included.
    expect((await call("GET", `/v1/organizations/${org.id}`, as)).status).toBe(200);
    // org:read_members — everyone but guests.
    expectAllowed(await call("GET", `/v1/organizations/${org.id}/members`, as), role !== "guest", 200);
    // org:update — owners and directors.
    expectAllowed(
      await call("PATCH", `/v1/organizations/${org.id}`, { ...as, body: { name: "Renamed" } }),
      role === "owner" || role === "director",
      200,
    );
    // projects:read_all — managers and up see a project they are not in.
    const listed = await call("GET", `/v1/organizations/${org.id}/projects`, as);
    expect(listed.body.data.map((p: { id: string }) => p.id)).toEqual(managers.includes(role) ? [project.id] : []);
    const seen = await call("GET", `/v1/projects/${project.id}`, as);
    if (managers.includes(role)) expect(seen.status).toBe(200);
    else expectProblem(seen, 404, "NOT_FOUND");
    // projects:create — managers and up.
    expectAllowed(
      await call("POST", `/v1/organizations/${org.id}/projects`, { ...as, body: { name: "New" } }),
      managers.includes(role),
      201,
    );
    // members:update_role — managers and up, on a member below them.
    expectAllowed(
      await call("PATCH", `/v1/organizations/${org.id}/members/${target.id}`, { ...as, body: { role: "guest" } }),
      managers.includes(role),
      200,
    );
    // members:remove — managers and up.
    expectAllowed(
      await call("DELETE", `/v1/organizations/${org.id}/members/${target.id}`, as),
      managers.includes(role),
      204,
    );
    // org:delete — owners only.
    expectAllowed(await call("DELETE", `/v1/organizations/${org.id}`, as), role === "owner", 204);
  });

  it("roles.ts encodes the table and the rank rules exactly", () => {
    const table = Object.fromEntries(
      ORG_ROLES.map((r) => [
        r,
        ["org:read_members", "org:update", "org:delete", "members:invite", "projects:read_all", "audit:read"].filter(
          (p) => hasPermission(r, p as never),
        ),
      ]),
    );
    expect(table).toEqual({
      owner: ["org:read_members", "org:update", "org:delete", "members:invite", "projects:read_all", "audit:read"],
      director: ["org:read_members", "org:update", "members:invite", "projects:read_all", "audit:read"],
      manager: ["org:read_members", "members:invite", "projects:read_all"],
      member: ["org:read_members"],
      guest: [],
    });
    const grants = ORG_ROLES.map((a) => ORG_ROLES.filter((g) => canGrantOrgRole(a, g)).length);
    expect(grants).toEqual([5, 4, 3, 2, 1]);
    const actsOn = ORG_ROLES.map((a) => ORG_ROLES.filter((t) => canActOnMember(a, t)));
    expect(actsOn).toEqual([
      ["owner", "director", "manager", "member", "guest"],
      ["manager", "member", "guest"],
      ["member", "guest"],
      ["guest"],
      [],
    ]);
  });
});

describe("rule: nobody grants a role above their own", () => {
  it("a manager grants up to manager, not director (403 ROLE_ABOVE_OWN)", async () => {
    const { org, users } = await team("manager", "member");
    const [manager, member] = users;
    const path = `/v1/organizations/${org.id}/members/${member.id}`;
    expectProblem(await call("PATCH", path, { as: manager.id, body: { role: "director" } }), 403, "ROLE_ABOVE_OWN");
    expect(await roleOf(org.id, member.id)).toBe("member");
    expect((await call("PATCH", path, { as: manager.id, body: { role: "manager" } })).status).toBe(200);
  });

  it("only an owner makes another owner", async () => {
    const { org, owner, users } = await team("director", "member");
    const [director, member] = users;
    const path = `/v1/organizations/${org.id}/members/${member.id}`;
    expectProblem(await call("PATCH", path, { as: director.id, body: { role: "owner" } }), 403, "ROLE_ABOVE_OWN");
    const res = await call("PATCH", path, { as: owner.id, body: { role: "owner" } });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe("owner");
  });
});

describe("rule: role changes and removals act only on members ranked strictly below", () => {
  it("a director cannot change or remove another director, nor a manager a manager (403 FORBIDDEN)", async () => {
    const { org, users } = await team("director", "director", "manager", "manager");
    const [d1, d2, m1, m2] = users;
    for (const [actor, target] of [
      [d1, d2],
      [m1, m2],
      [m1, d1],
    ] as const) {
      const path = `/v1/organizations/${org.id}/members/${target.id}`;
      expectProblem(await call("PATCH", path, { as: actor.id, body: { role: "guest" } }), 403, "FORBIDDEN");
      expectProblem(await call("DELETE", path, { as: actor.id }), 403, "FORBIDDEN");
    }
    expect([await roleOf(org.id, d2.id), await roleOf(org.id, m2.id), await roleOf(org.id, d1.id)]).toEqual([
      "director",
      "manager",
      "director",
    ]);
  });

  it("a director acts on a manager below them", async () => {
    const { org, users } = await team("director", "manager");
    const [director, manager] = users;
    const path = `/v1/organizations/${org.id}/members/${manager.id}`;
    expect((await call("PATCH", path, { as: director.id, body: { role: "member" } })).status).toBe(200);
    expect((await call("DELETE", path, { as: director.id })).status).toBe(204);
  });

  it("except that an owner may act on other owners", async () => {
    const { org, owner, users } = await team("owner", "owner");
    const [o2, o3] = users;
    expect(
      (await call("PATCH", `/v1/organizations/${org.id}/members/${o2.id}`, { as: owner.id, body: { role: "member" } }))
        .status,
    ).toBe(200);
    expect((await call("DELETE", `/v1/organizations/${org.id}/members/${o3.id}`, { as: owner.id })).status).toBe(204);
  });
});

describe("rule: the last owner can neither leave, be removed, nor be demoted (409 LAST_OWNER)", () => {
  it("the last owner cannot leave", async () => {
    const { org, owner } = await team("director");
    const before = await auditCount(org.id);
    const res = await call("DELETE", `/v1/organizations/${org.id}/members/${owner.id}`, { as: owner.id });
    expectProblem(res, 409, "LAST_OWNER");
    expect(await roleOf(org.id, owner.id)).toBe("owner");
    expect(await auditCount(org.id)).toBe(before);
  });

  it("the last owner cannot be demoted", async () => {
    const { org, owner } = await team("director");
    const res = await call("PATCH", `/v1/organizations/${org.id}/members/${owner.id}`, {
      as: owner.id,
      body: { role: "director" },
    });
    expectProblem(res, 409, "LAST_OWNER");
    expect(await roleOf(org.id, owner.id)).toBe("owner");
  });

  it("the last owner cannot be removed: a former co-owner's removal attempt is refused", async () => {
    // Two owners; one demotes themselves, then the remaining (last) owner cannot be removed by
    // anyone: not by the former owner (now below), and not by themselves (that is leaving).
    const { org, owner, users } = await team("owner");
    const [former] = users;
    expect(
      (
        await call("PATCH", `/v1/organizations/${org.id}/members/${former.id}`, {
          as: former.id,
          body: { role: "director" },
        })
      ).status,
    ).toBe(200);
    expectProblem(
      await call("DELETE", `/v1/organizations/${org.id}/members/${owner.id}`, { as: former.id }),
      403,
      "FORBIDDEN",
    );
    expectProblem(
      await call("DELETE", `/v1/organizations/${org.id}/members/${owner.id}`, { as: owner.id }),
      409,
      "LAST_OWNER",
    );
    expect(await roleOf(org.id, owner.id)).toBe("owner");
  });

  it("with a second owner, an owner may leave", async () => {
    const { org, owner } = await team("owner");
    expect((await call("DELETE", `/v1/organizations/${org.id}/members/${owner.id}`, { as: owner.id })).status).toBe(
      204,
    );
  });
});

describe("rule: any member may leave; leaving removes them from every project of that organization", () => {
  it.each([["director"], ["manager"], ["member"], ["guest"]] as const)("a %s leaves", async (role) => {
    const { org, users } = await team(role);
    const [leaver] = users;
    const p1 = await seedProject(org.id, [{ id: leaver.id, role: "admin" }]);
    const p2 = await seedProject(org.id, [{ id: leaver.id, role: "viewer" }]);
    const res = await call("DELETE", `/v1/organizations/${org.id}/members/${leaver.id}`, { as: leaver.id });
    expect(res.status).toBe(204);
    expect(await roleOf(org.id, leaver.id)).toBeNull();
    const { results } = await env.DB.prepare(
      "SELECT project_id FROM project_admins WHERE admin_id = ? AND project_id IN (?, ?)",
    )
      .bind(leaver.id, p1.id, p2.id)
      .all();
    expect(results).toEqual([]);
  });
});

describe("rule: guests see the organization's name only", () => {
  it("a guest reads the organization but listing members is 403", async () => {
    const { org, users } = await team("guest");
    expect((await call("GET", `/v1/organizations/${org.id}`, { as: users[0].id })).body.name).toEqual(
      expect.any(String),
    );
    expectProblem(await call("GET", `/v1/organizations/${org.id}/members`, { as: users[0].id }), 403, "FORBIDDEN");
  });
});

describe("rule: another organization's resources are 404, never 403", () => {
  it("an owner elsewhere gets 404 for every endpoint on this organization, its members and projects", async () => {
    const { org, users } = await team("member");
    const [member] = users;
    const project = await seedProject(org.id, [{ id: member.id, role: "viewer" }]);
    const { owner: outsider } = await team();
    const requests: [string, string, unknown?][] = [
      ["GET", `/v1/organizations/${org.id}`],
      ["PATCH", `/v1/organizations/${org.id}`, { name: "x" }],
      ["DELETE", `/v1/organizations/${org.id}`],
      ["GET", `/v1/organizations/${org.id}/members`],
      ["PATCH", `/v1/organizations/${org.id}/members/${member.id}`, { role: "guest" }],
      ["DELETE", `/v1/organizations/${org.id}/members/${member.id}`],
      ["POST", `/v1/organizations/${org.id}/projects`, { name: "x" }],
      ["GET", `/v1/organizations/${org.id}/projects`],
      ["GET", `/v1/projects/${project.id}`],
      ["GET", `/v1/projects/${project.id}/members`],
      ["PATCH", `/v1/projects/${project.id}/members/${member.id}`, { role: "admin" }],
      ["DELETE", `/v1/projects/${project.id}/members/${member.id}`],
    ];
    for (const [method, path, body] of requests) {
      const res = await call(method, path, { as: outsider.id, body });
      expect({ method, path, status: res.status, code: res.body?.code }).toEqual({
        method,
        path,
        status: 404,
        code: "NOT_FOUND",
      });
    }
    expect(await roleOf(org.id, member.id)).toBe("member");
  });
});
