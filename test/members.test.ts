import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Db } from "../workers/core/db";
import { ApiError } from "../workers/core/errors";
import {
  changeMemberRole,
  listMembers,
  planRemoval,
  removalStatements,
  removeMember,
} from "../workers/core/memberships";
import { auditOf, call, countingDb, expectProblem, seedOrg, seedProject, seedUser, uid } from "./helpers";

type Role = "owner" | "director" | "manager" | "member" | "guest";

async function roleOf(orgId: string, userId: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT role FROM organization_users WHERE organization_id = ? AND user_id = ?")
    .bind(orgId, userId)
    .first<{ role: string }>();
  return row?.role ?? null;
}

async function owners(orgId: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM organization_users WHERE organization_id = ? AND role = 'owner'",
  )
    .bind(orgId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * A D1 handle whose first `rounds` pairs of batch calls run in lockstep: each call waits for a
 * second one before either proceeds. Two operations that each read (one batch) then write (one
 * batch) through it both read before either writes: the worst interleaving, every time.
 */
function lockstep(db: D1Database, rounds: number): Db {
  let calls = 0;
  let waiting: (() => void) | null = null;
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (calls++ < rounds * 2) {
            if (waiting === null) await new Promise<void>((resolve) => (waiting = resolve));
            else {
              const partner = waiting;
              waiting = null;
              partner();
            }
          }
          return await target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function codeOf(result: PromiseSettledResult<unknown>): string {
  if (result.status === "fulfilled") return "ok";
  return result.reason instanceof ApiError ? result.reason.code : String(result.reason);
}

type Seeded = { id: string; email: string };

/** An organization with one user per listed role besides its owner (typed as a tuple). */
async function team<R extends Role[]>(...roles: R) {
  const owner = await seedUser();
  const users: Seeded[] = [];
  for (const _ of roles) users.push(await seedUser());
  const org = await seedOrg(owner.id, { members: users.map((u, i) => ({ id: u.id, role: roles[i] as Role })) });
  return { org, owner, users: users as { [K in keyof R]: Seeded } };
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("expected a value");
  return value;
}

describe("GET /v1/organizations/{orgId}/members", () => {
  it("lists members by join time with email (from admins) and name, paginated", async () => {
    const { org, owner, users } = await team("director", "member", "guest");
    const page1 = await call("GET", `/v1/organizations/${org.id}/members?limit=3`, { as: users[1].id });
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual([
      [owner.id, "owner"],
      [users[0].id, "director"],
      [users[1].id, "member"],
    ]);
    expect(page1.body.data[0]).toEqual({
      userId: owner.id,
      email: owner.email,
      name: expect.any(String),
      role: "owner",
      joinedAt: expect.any(String),
    });
    const page2 = await call("GET", `/v1/organizations/${org.id}/members?limit=3&cursor=${page1.body.nextCursor}`, {
      as: users[1].id,
    });
    expect(page2.body).toEqual({ data: [expect.objectContaining({ userId: users[2].id })], nextCursor: null });
  });

  it("orders members who joined in the same millisecond by user id, across pages", async () => {
    const owner = await seedUser({ id: uid("user_b") });
    const a = await seedUser({ id: uid("user_a") });
    const c = await seedUser({ id: uid("user_c") });
    const org = await seedOrg(owner.id);
    await env.DB.prepare("UPDATE organization_users SET created_at = 1000 WHERE organization_id = ?")
      .bind(org.id)
      .run();
    await env.DB.batch(
      [a, c].map((u) =>
        env.DB.prepare(
          "INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at) VALUES (?, ?, 'member', 1000, 1000)",
        ).bind(org.id, u.id),
      ),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { data: { userId: string }[]; nextCursor: string | null } } = await call(
        "GET",
        `/v1/organizations/${org.id}/members?limit=1${cursor ? `&cursor=${cursor}` : ""}`,
        { as: owner.id },
      );
      seen.push(...res.body.data.map((m) => m.userId));
      cursor = res.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([a.id, owner.id, c.id]);
  });

  it("is 403 FORBIDDEN for guests (they see the organization's name only)", async () => {
    const { org, users } = await team("guest");
    expectProblem(await call("GET", `/v1/organizations/${org.id}/members`, { as: users[0].id }), 403, "FORBIDDEN");
  });

  it("is 404 for non-members", async () => {
    const { org } = await team();
    const stranger = await seedUser();
    expectProblem(await call("GET", `/v1/organizations/${org.id}/members`, { as: stranger.id }), 404, "NOT_FOUND");
  });

  it("validates limit and cursor", async () => {
    const { org, owner } = await team();
    for (const q of ["limit=0", "limit=101", "cursor=garbage!"]) {
      expectProblem(
        await call("GET", `/v1/organizations/${org.id}/members?${q}`, { as: owner.id }),
        400,
        "VALIDATION_FAILED",
      );
    }
  });
});

describe("PATCH /v1/organizations/{orgId}/members/{userId}", () => {
  it("a manager promotes a member to manager; the change is audited with from and to", async () => {
    const { org, users } = await team("manager", "member");
    const [manager, member] = users;
    const res = await call("PATCH", `/v1/organizations/${org.id}/members/${member.id}`, {
      as: manager.id,
      body: { role: "manager" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      userId: member.id,
      email: member.email,
      name: expect.any(String),
      role: "manager",
      joinedAt: expect.any(String),
    });
    expect(await roleOf(org.id, member.id)).toBe("manager");
    const events = (await auditOf(org.id)).filter((a) => a.action === "member.role_changed");
    expect(events).toEqual([
      {
        action: "member.role_changed",
        actor_id: manager.id,
        target_type: "member",
        target_id: member.id,
        data: { from: "member", to: "manager" },
      },
    ]);
  });

  it("setting the role a member already has is 200 and writes nothing", async () => {
    const { org, owner, users } = await team("member");
    const res = await call("PATCH", `/v1/organizations/${org.id}/members/${users[0].id}`, {
      as: owner.id,
      body: { role: "member" },
    });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe("member");
    expect((await auditOf(org.id)).filter((a) => a.action === "member.role_changed")).toEqual([]);
  });

  it("members and guests may not change roles (403 FORBIDDEN)", async () => {
    const { org, users } = await team("member", "guest");
    for (const actor of users) {
      const target = must(users.find((u) => u.id !== actor.id));
      const res = await call("PATCH", `/v1/organizations/${org.id}/members/${target.id}`, {
        as: actor.id,
        body: { role: "guest" },
      });
      expectProblem(res, 403, "FORBIDDEN");
    }
  });

  it("a target who is not a member is 404", async () => {
    const { org, owner } = await team();
    const outsider = await seedUser();
    const res = await call("PATCH", `/v1/organizations/${org.id}/members/${outsider.id}`, {
      as: owner.id,
      body: { role: "member" },
    });
    expectProblem(res, 404, "NOT_FOUND");
  });

  it.each([[{ role: "admin" }], [{ role: "OWNER" }], [{}], [{ role: "member", extra: true }]])(
    "rejects %j with 400",
    async (body) => {
      const { org, owner, users } = await team("member");
      const res = await call("PATCH", `/v1/organizations/${org.id}/members/${users[0].id}`, { as: owner.id, body });
      expectProblem(res, 400, "VALIDATION_FAILED");
      expect(res.body.errors.length).toBeGreaterThan(0);
    },
  );

  it("an owner may demote themselves when another owner remains", async () => {
    const { org, owner, users } = await team("owner");
    const res = await call("PATCH", `/v1/organizations/${org.id}/members/${owner.id}`, {
      as: owner.id,
      body: { role: "director" },
    });
    expect(res.status).toBe(200);
    expect(await roleOf(org.id, owner.id)).toBe("director");
    expect(await roleOf(org.id, users[0].id)).toBe("owner");
  });

  it("a director may not change their own role (only owners act on their equals)", async () => {
    const { org, users } = await team("director");
    const res = await call("PATCH", `/v1/organizations/${org.id}/members/${users[0].id}`, {
      as: users[0].id,
      body: { role: "manager" },
    });
    expectProblem(res, 403, "FORBIDDEN");
  });
});

describe("DELETE /v1/organizations/{orgId}/members/{userId}", () => {
  it("a manager removes a member, with their projects of this organization only, audited", async () => {
    const { org, users } = await team("manager", "member");
    const [manager, member] = users;
    const p1 = await seedProject(org.id, [{ id: member.id, role: "editor" }]);
    const p2 = await seedProject(org.id, [{ id: member.id, role: "viewer" }]);
    // The member's project in another organization is untouched.
    const elsewhere = await seedOrg((await seedUser()).id, { members: [{ id: member.id, role: "member" }] });
    const p3 = await seedProject(elsewhere.id, [{ id: member.id, role: "admin" }]);

    const res = await call("DELETE", `/v1/organizations/${org.id}/members/${member.id}`, { as: manager.id });
    expect(res.status).toBe(204);
    expect(await roleOf(org.id, member.id)).toBeNull();
    const { results } = await env.DB.prepare("SELECT project_id FROM project_admins WHERE admin_id = ?")
      .bind(member.id)
      .all<{ project_id: string }>();
    expect(results.map((r) => r.project_id)).toEqual([p3.id]);
    const audit = (await auditOf(org.id)).filter((a) => a.target_id === member.id);
    expect(audit.map((a) => [a.action, a.actor_id, a.target_type])).toEqual([
      ["member.removed", manager.id, "member"],
      ["project_member.removed", manager.id, "project_member"],
      ["project_member.removed", manager.id, "project_member"],
    ]);
    expect(
      audit
        .slice(1)
        .map((a) => a.data.projectId)
        .sort(),
    ).toEqual([p1.id, p2.id].sort());
    expect(await roleOf(elsewhere.id, member.id)).toBe("member");
  });

  it("any member may leave, a guest included (audited member.left)", async () => {
    const { org, users } = await team("guest");
    const guest = users[0];
    const res = await call("DELETE", `/v1/organizations/${org.id}/members/${guest.id}`, { as: guest.id });
    expect(res.status).toBe(204);
    expect(await roleOf(org.id, guest.id)).toBeNull();
    const audit = await auditOf(org.id);
    expect(audit.map((a) => [a.action, a.actor_id, a.target_id])).toEqual([["member.left", guest.id, guest.id]]);
    // Gone: the organization is now invisible to them.
    expectProblem(await call("GET", `/v1/organizations/${org.id}`, { as: guest.id }), 404, "NOT_FOUND");
  });

  it("accepts an empty body with any or no content type", async () => {
    const { org, users } = await team("member", "member");
    const a = await call("DELETE", `/v1/organizations/${org.id}/members/${users[0].id}`, {
      as: users[0].id,
      rawBody: "",
      headers: { "Content-Type": "text/plain" },
    });
    expect(a.status).toBe(204);
    const b = await call("DELETE", `/v1/organizations/${org.id}/members/${users[1].id}`, { as: users[1].id });
    expect(b.status).toBe(204);
  });

  it("members may not remove others (403), and a missing target is 404", async () => {
    const { org, owner, users } = await team("member", "member");
    expectProblem(
      await call("DELETE", `/v1/organizations/${org.id}/members/${users[1].id}`, { as: users[0].id }),
      403,
      "FORBIDDEN",
    );
    expectProblem(
      await call("DELETE", `/v1/organizations/${org.id}/members/${uid()}`, { as: owner.id }),
      404,
      "NOT_FOUND",
    );
  });

  it("an owner removes another owner", async () => {
    const { org, owner, users } = await team("owner");
    const res = await call("DELETE", `/v1/organizations/${org.id}/members/${users[0].id}`, { as: owner.id });
    expect(res.status).toBe(204);
    expect(await owners(org.id)).toBe(1);
  });
});

describe("the last-owner rule under concurrency", () => {
  it("two owners leaving at once: one leaves, the other gets 409 LAST_OWNER", async () => {
    const { org, owner, users } = await team("owner");
    const other = users[0];
    const results = await Promise.all([
      call("DELETE", `/v1/organizations/${org.id}/members/${owner.id}`, { as: owner.id }),
      call("DELETE", `/v1/organizations/${org.id}/members/${other.id}`, { as: other.id }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
    expectProblem(must(results.find((r) => r.status === 409)), 409, "LAST_OWNER");
    expect(await owners(org.id)).toBe(1);
  });

  it("two owners demoting themselves at once: one is demoted, the other stays owner", async () => {
    const { org, owner, users } = await team("owner");
    const other = users[0];
    const results = await Promise.all(
      [owner, other].map((u) =>
        call("PATCH", `/v1/organizations/${org.id}/members/${u.id}`, { as: u.id, body: { role: "member" } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(await owners(org.id)).toBe(1);
  });

  it("two owners demoting each other at once: at least one owner remains", async () => {
    const { org, owner, users } = await team("owner");
    const other = users[0];
    const results = await Promise.all([
      call("PATCH", `/v1/organizations/${org.id}/members/${other.id}`, { as: owner.id, body: { role: "guest" } }),
      call("PATCH", `/v1/organizations/${org.id}/members/${owner.id}`, { as: other.id, body: { role: "guest" } }),
    ]);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(await owners(org.id)).toBe(1);
  });

  it("both owners leave, each having read that two owners exist: the write's guard keeps one", async () => {
    const { org, owner, users } = await team("owner");
    const other = users[0];
    const db = lockstep(env.DB, 2);
    const now = Date.now();
    const results = await Promise.allSettled(
      [owner, other].map((u) => removeMember(db, { orgId: org.id, actorId: u.id, targetId: u.id, now })),
    );
    expect(results.map(codeOf).sort()).toEqual(["LAST_OWNER", "ok"]);
    expect(await owners(org.id)).toBe(1);
  });

  it("both owners demote themselves, each having read that two owners exist: one stays owner", async () => {
    const { org, owner, users } = await team("owner");
    const other = users[0];
    const db = lockstep(env.DB, 2);
    const now = Date.now();
    const results = await Promise.allSettled(
      [owner, other].map((u) =>
        changeMemberRole(db, { orgId: org.id, actorId: u.id, targetId: u.id, role: "member", now }),
      ),
    );
    expect(results.map(codeOf).sort()).toEqual(["LAST_OWNER", "ok"]);
    expect(await owners(org.id)).toBe(1);
  });

  it("two owners demote each other, both having read the old roles: the loser is re-decided (403)", async () => {
    const { org, owner, users } = await team("owner");
    const other = users[0];
    const db = lockstep(env.DB, 2);
    const now = Date.now();
    const results = await Promise.allSettled([
      changeMemberRole(db, { orgId: org.id, actorId: owner.id, targetId: other.id, role: "guest", now }),
      changeMemberRole(db, { orgId: org.id, actorId: other.id, targetId: owner.id, role: "guest", now }),
    ]);
    expect(results.map(codeOf).sort()).toEqual(["FORBIDDEN", "ok"]);
    expect(await owners(org.id)).toBe(1);
    expect((await auditOf(org.id)).filter((a) => a.action === "member.role_changed")).toHaveLength(1);
  });

  it("the guard is in the write itself: two removals planned on the same stale state cannot both apply", async () => {
    const { org, owner, users } = await team("owner");
    const other = users[0];
    const now = Date.now();
    const leaveA = { orgId: org.id, actorId: owner.id, targetId: owner.id, now };
    const leaveB = { orgId: org.id, actorId: other.id, targetId: other.id, now };
    // Both are decided while two owners exist, so both pass the read-side check.
    const [stateA, stateB] = await Promise.all([planRemoval(env.DB, leaveA), planRemoval(env.DB, leaveB)]);
    const first = await env.DB.batch(removalStatements(env.DB, stateA, leaveA));
    const second = await env.DB.batch(removalStatements(env.DB, stateB, leaveB));
    expect(first.at(-1)?.meta.changes).toBe(1);
    expect(second.at(-1)?.meta.changes).toBe(0);
    expect(await roleOf(org.id, other.id)).toBe("owner");
    // The refused batch wrote no audit event either.
    expect((await auditOf(org.id)).map((a) => [a.action, a.actor_id])).toEqual([["member.left", owner.id]]);
  });
});

describe("D1 round trips", () => {
  it("list 1, role change 2 (1 when unchanged), removal 2", async () => {
    const { org, owner, users } = await team("member", "member");
    const now = Date.now();
    const trips = async (run: (db: D1Database) => Promise<unknown>) => {
      const counter = countingDb(env.DB);
      await run(counter.db);
      return counter.roundTrips();
    };
    const base = { orgId: org.id, actorId: owner.id, now };
    expect(await trips((db) => listMembers(db, org.id, owner.id, { limit: 50 }))).toBe(1);
    expect(await trips((db) => changeMemberRole(db, { ...base, targetId: users[0].id, role: "guest" }))).toBe(2);
    expect(await trips((db) => changeMemberRole(db, { ...base, targetId: users[0].id, role: "guest" }))).toBe(1);
    expect(await trips((db) => removeMember(db, { ...base, targetId: users[1].id }))).toBe(2);
  });
});
