import { applyD1Migrations, createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { handleFetch } from "../workers/api/router";
import { BASE, signToken } from "./helpers";

/**
 * An existing installation on the legacy single-organization schema is migrated, and every legacy
 * membership and project membership is then reachable through the API with its mapped role.
 */
const db = env.LEGACY_DB;

const legacy = {
  organizations: [
    ["1", "Acme", 100],
    ["2", "Beta", 200],
    ["3", "Gamma", 300],
    ["4", "Dormant", 400],
  ],
  // id, email, name, organization_id, role, created_at
  admins: [
    ["user_alice", "alice@acme.test", "Alice", "1", "owner", 1000],
    ["user_bob", "bob@acme.test", "Bob", "1", "admin", 1100],
    ["user_carol", "carol@acme.test", null, "1", "member", 1200],
    ["user_judy", "Judy@Acme.TEST", "Judy", "1", "member", 1300],
    // Beta has no owner: its earliest admin-role member (dave) becomes owner, though frank joined first.
    ["user_frank", "frank@beta.test", "Frank", "2", "member", 1900],
    ["user_dave", "dave@beta.test", "Dave", "2", "admin", 2000],
    ["user_erin", "erin@beta.test", "Erin", "2", "admin", 2100],
    // Gamma has neither owner nor admin: its earliest member (gina) becomes owner.
    ["user_gina", "gina@gamma.test", "Gina", "3", "member", 3000],
    ["user_hank", "hank@gamma.test", "Hank", "3", "viewer", 3100],
    // No organization at all.
    ["user_ivan", "ivan@nowhere.test", "Ivan", null, "member", 4000],
  ],
  projects: [
    ["p1", "1", "Rocket", 500],
    ["p2", "1", "Anvil", 600],
    ["p3", "2", "Bridge", 700],
  ],
  // project_id, admin_id, role, created_at
  projectAdmins: [
    ["p1", "user_alice", "admin", 5000],
    ["p1", "user_carol", "editor", 5100],
    ["p2", "user_bob", "viewer", 5200],
    ["p3", "user_frank", "admin", 5300],
    // Project members outside the project's organization become its members.
    ["p1", "user_ivan", "viewer", 5400],
    // A role outside the enum becomes viewer.
    ["p3", "user_alice", "owner", 5500],
  ],
} as const;

const expected: Record<string, { orgs: Record<string, string>; projects: Record<string, string> }> = {
  user_alice: { orgs: { "1": "owner", "2": "member" }, projects: { p1: "admin", p3: "viewer" } },
  user_bob: { orgs: { "1": "director" }, projects: { p2: "viewer" } },
  user_carol: { orgs: { "1": "member" }, projects: { p1: "editor" } },
  user_judy: { orgs: { "1": "member" }, projects: {} },
  user_frank: { orgs: { "2": "member" }, projects: { p3: "admin" } },
  user_dave: { orgs: { "2": "owner" }, projects: {} },
  user_erin: { orgs: { "2": "director" }, projects: {} },
  user_gina: { orgs: { "3": "owner" }, projects: {} },
  user_hank: { orgs: { "3": "member" }, projects: {} },
  user_ivan: { orgs: { "1": "member" }, projects: { p1: "viewer" } },
};

async function api(userId: string, path: string): Promise<{ status: number; body: any }> {
  const request = new Request(`${BASE}${path}`, { headers: { Authorization: `Bearer ${await signToken(userId)}` } });
  const ctx = createExecutionContext();
  const response = await handleFetch(request, { ...env, DB: db }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  const [first, ...later] = env.TEST_MIGRATIONS;
  if (!first?.name.startsWith("0000")) throw new Error("migration 0000 must come first");
  await applyD1Migrations(db, [first]);
  const insert = (sql: string, rows: readonly (readonly unknown[])[]) =>
    rows.map((row) => db.prepare(sql).bind(...row));
  await db.batch([
    ...insert("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)", legacy.organizations),
    ...insert(
      "INSERT INTO admins (id, email, name, organization_id, role, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      legacy.admins,
    ),
    ...insert("INSERT INTO projects (id, organization_id, name, created_at) VALUES (?, ?, ?, ?)", legacy.projects),
    ...insert(
      "INSERT INTO project_admins (project_id, admin_id, role, created_at) VALUES (?, ?, ?, ?)",
      legacy.projectAdmins,
    ),
  ]);
  await applyD1Migrations(db, later);
});

describe("legacy migration", () => {
  it("loses no row: every legacy table keeps its rows and values", async () => {
    const count = async (table: string) =>
      (await db.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n;
    expect(await count("organizations")).toBe(legacy.organizations.length);
    expect(await count("admins")).toBe(legacy.admins.length);
    expect(await count("projects")).toBe(legacy.projects.length);
    expect(await count("project_admins")).toBe(legacy.projectAdmins.length);
    const admins = await db
      .prepare("SELECT id, email, name, organization_id, role, created_at FROM admins ORDER BY created_at")
      .raw();
    expect(admins).toEqual(legacy.admins.map((a) => [...a]));
    const orgs = await db.prepare("SELECT id, name, created_at, slug FROM organizations ORDER BY id").raw();
    expect(orgs).toEqual(legacy.organizations.map(([id, name, at]) => [id, name, at, id]));
  });

  it("every legacy membership and project membership appears in /v1/me with its mapped role", async () => {
    for (const [userId, want] of Object.entries(expected)) {
      const me = await api(userId, "/v1/me");
      expect(me.status, userId).toBe(200);
      const orgs = Object.fromEntries(me.body.organizations.map((o: any) => [o.id, o.role]));
      const projects = Object.fromEntries(me.body.projects.map((p: any) => [p.id, p.role]));
      expect({ userId, orgs, projects }).toEqual({ userId, orgs: want.orgs, projects: want.projects });
    }
  });

  it("legacy addresses are kept as verified, in canonical form", async () => {
    const judy = await api("user_judy", "/v1/me");
    expect(judy.body.user.email).toBe(null); // no Clerk webhook has synced this user yet
    expect(judy.body.user.emails).toEqual([{ email: "judy@acme.test", verified: true }]);
  });

  it("organization member lists show every legacy member with the mapped role", async () => {
    const members = await api("user_alice", "/v1/organizations/1/members");
    expect(members.status).toBe(200);
    expect(Object.fromEntries(members.body.data.map((m: any) => [m.userId, m.role]))).toEqual({
      user_alice: "owner",
      user_bob: "director",
      user_carol: "member",
      user_judy: "member",
      user_ivan: "member",
    });
    const beta = await api("user_dave", "/v1/organizations/2/members");
    expect(Object.fromEntries(beta.body.data.map((m: any) => [m.userId, m.role]))).toEqual({
      user_frank: "member",
      user_dave: "owner",
      user_erin: "director",
      user_alice: "member",
    });
  });

  it("project member lists show every legacy project member", async () => {
    const p1 = await api("user_alice", "/v1/projects/p1/members");
    expect(p1.status).toBe(200);
    expect(Object.fromEntries(p1.body.data.map((m: any) => [m.userId, m.role]))).toEqual({
      user_alice: "admin",
      user_carol: "editor",
      user_ivan: "viewer",
    });
    const p3 = await api("user_dave", "/v1/projects/p3/members");
    expect(Object.fromEntries(p3.body.data.map((m: any) => [m.userId, m.role]))).toEqual({
      user_frank: "admin",
      user_alice: "viewer",
    });
  });

  it("legacy ids stay unprefixed and organizations keep their id as slug", async () => {
    const org = await api("user_gina", "/v1/organizations/3");
    expect(org.status).toBe(200);
    expect(org.body).toMatchObject({ id: "3", name: "Gamma", slug: "3", role: "owner" });
  });

  it("a legacy organization can be deleted: the deprecated column no longer blocks it", async () => {
    const response = await handleFetch(
      new Request(`${BASE}/v1/organizations/3`, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${await signToken("user_gina")}` },
      }),
      { ...env, DB: db },
      createExecutionContext(),
    );
    expect(response.status).toBe(204);
    // The legacy column keeps its value (nothing rewritten), and users survive.
    expect(await db.prepare("SELECT organization_id FROM admins WHERE id = 'user_gina'").first("organization_id")).toBe(
      "3",
    );
  });
});
