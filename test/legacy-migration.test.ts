import { applyD1Migrations, createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { handleFetch } from "../workers/api/router";
import { applyUserUpsert } from "../workers/core/clerk-sync";
import { BASE, signToken } from "./helpers";
import { spyQueue } from "./invite-helpers";

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
    // No admin points at Orphan: its people come only through its project p5.
    ["5", "Orphan", 500],
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
    // Two legacy admins whose addresses differ only in case: one canonical address, two claimants.
    ["user_kim", "Kim@Shared.test", "Kim", "2", "member", 4100],
    ["user_kimberly", "kim@shared.test", "Kimberly", null, "member", 4200],
    // Clerk later verified Lou's address for another user (clerk_lou, below).
    ["user_lou", "Lou@Shared.test", "Lou (legacy)", null, "member", 4300],
  ],
  projects: [
    ["p1", "1", "Rocket", 500],
    ["p2", "1", "Anvil", 600],
    ["p3", "2", "Bridge", 700],
    ["p5", "5", "Lighthouse", 800],
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
    // Orphan's only people: Acme's owner, then Acme's admin. Orphan must end with an owner, chosen
    // in 0001's order of preference: a legacy admin-role member (Bob) before an earlier one.
    ["p5", "user_alice", "admin", 5600],
    ["p5", "user_bob", "editor", 5700],
  ],
} as const;

const expected: Record<string, { orgs: Record<string, string>; projects: Record<string, string> }> = {
  user_alice: {
    orgs: { "1": "owner", "2": "member", "5": "member" },
    projects: { p1: "admin", p3: "viewer", p5: "admin" },
  },
  user_bob: { orgs: { "1": "director", "5": "owner" }, projects: { p2: "viewer", p5: "editor" } },
  user_carol: { orgs: { "1": "member" }, projects: { p1: "editor" } },
  user_judy: { orgs: { "1": "member" }, projects: {} },
  user_frank: { orgs: { "2": "member" }, projects: { p3: "admin" } },
  user_dave: { orgs: { "2": "owner" }, projects: {} },
  user_erin: { orgs: { "2": "director" }, projects: {} },
  user_gina: { orgs: { "3": "owner" }, projects: {} },
  user_hank: { orgs: { "3": "member" }, projects: {} },
  user_ivan: { orgs: { "1": "member" }, projects: { p1: "viewer" } },
  user_kim: { orgs: { "2": "member" }, projects: {} },
  user_kimberly: { orgs: {}, projects: {} },
  user_lou: { orgs: {}, projects: {} },
};

async function api(
  userId: string,
  path: string,
  method = "GET",
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${await signToken(userId)}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const request = new Request(`${BASE}${path}`, { method, headers, body: JSON.stringify(body) });
  const ctx = createExecutionContext();
  const response = await handleFetch(request, { ...env, DB: db, EMAIL_QUEUE: spyQueue() as unknown as Queue }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text) };
}

/** The legacy migrations as an installation that ran them before 0006 existed; then 0006 on. */
const REPAIR = "0006";
const beforeRepair = env.TEST_MIGRATIONS.filter((m) => m.name.slice(0, 4) < REPAIR);
const repair = env.TEST_MIGRATIONS.filter((m) => m.name.slice(0, 4) >= REPAIR);

/** What the database held when only the migrations before 0006 had run. */
let unrepaired: { orphanRoles: Record<string, string>; kimVerified: number[] };

/** Organization roles, addresses, verification flags and audit rows: what 0006 may change. */
async function repairableState() {
  const [roles, emails, audits, admins] = await db.batch([
    db.prepare("SELECT organization_id, user_id, role, updated_at FROM organization_users ORDER BY 1, 2"),
    db.prepare("SELECT user_id, email, verified FROM user_emails ORDER BY 1, 2"),
    db.prepare("SELECT organization_id, action, target_id, data FROM audit_events ORDER BY 1, 3"),
    db.prepare("SELECT id, email FROM admins ORDER BY 1"),
  ]);
  return { roles: roles?.results, emails: emails?.results, audits: audits?.results, admins: admins?.results };
}

async function runQueries(migrations: typeof env.TEST_MIGRATIONS): Promise<void> {
  for (const migration of migrations) await db.batch(migration.queries.map((q) => db.prepare(q)));
}

beforeAll(async () => {
  const [first, ...later] = beforeRepair;
  if (!first?.name.startsWith("0000")) throw new Error("migration 0000 must come first");
  if (repair[0]?.name !== "0006_legacy_repair.sql") throw new Error("0006 must follow the earlier migrations");
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
  // Users Clerk synced before 0006 existed, as the webhook stored them then (ids `clerk_…`):
  // - clerk_squatter made lou's address their primary without verifying it, and took it in
  //   admins.email (first come, first served), so clerk_lou, who verified it, got a placeholder;
  // - clerk_lou's verified address is also legacy user_lou's, still verified by assumption.
  await db.batch([
    db.prepare(
      `INSERT INTO admins (id, email, name, role, created_at, clerk_updated_at, updated_at) VALUES
         ('clerk_squatter', 'lou@shared.test', 'Squatter', 'member', 9000, 9000, 9000),
         ('clerk_lou', 'clerk_lou@users.invalid', 'Lou', 'member', 9100, 9100, 9100)`,
    ),
    db.prepare(
      `INSERT INTO user_emails (user_id, email, verified, is_primary, created_at) VALUES
         ('clerk_squatter', 'lou@shared.test', 0, 1, 9000), ('clerk_lou', 'lou@shared.test', 1, 1, 9100)`,
    ),
  ]);
  const orphan = await db
    .prepare("SELECT user_id, role FROM organization_users WHERE organization_id = '5'")
    .raw<[string, string]>();
  const kims = await db
    .prepare("SELECT verified FROM user_emails WHERE email = 'kim@shared.test' ORDER BY user_id")
    .raw<[number]>();
  unrepaired = { orphanRoles: Object.fromEntries(orphan), kimVerified: kims.map(([v]) => v) };
  await applyD1Migrations(db, repair);
});

describe("legacy migration", () => {
  it("loses no row: every legacy table keeps its rows and values", async () => {
    const count = async (table: string) =>
      (await db.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n;
    expect(await count("organizations")).toBe(legacy.organizations.length);
    expect(await count("admins WHERE id NOT LIKE 'clerk_%'")).toBe(legacy.admins.length);
    expect(await count("projects")).toBe(legacy.projects.length);
    expect(await count("project_admins")).toBe(legacy.projectAdmins.length);
    const admins = await db
      .prepare(
        "SELECT id, email, name, organization_id, role, created_at FROM admins WHERE id NOT LIKE 'clerk_%' ORDER BY created_at",
      )
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

  it("a legacy user Clerk has not synced yet has their legacy address, verified, canonical, in /v1/me", async () => {
    // Guards issue 9 item 1: their legacy address is their address until Clerk says otherwise.
    const judy = await api("user_judy", "/v1/me");
    expect(judy.body.user.email).toBe("judy@acme.test");
    expect(judy.body.user.emails).toEqual([{ email: "judy@acme.test", verified: true }]);
  });

  it("legacy users' addresses show in organization and project member lists before Clerk syncs them", async () => {
    // Guards issue 9 item 1, in member lists (org members and project members).
    const members = await api("user_alice", "/v1/organizations/1/members");
    expect(Object.fromEntries(members.body.data.map((m: any) => [m.userId, m.email]))).toEqual({
      user_alice: "alice@acme.test",
      user_bob: "bob@acme.test",
      user_carol: "carol@acme.test",
      user_judy: "judy@acme.test",
      user_ivan: "ivan@nowhere.test",
    });
    const p1 = await api("user_alice", "/v1/projects/p1/members");
    expect(Object.fromEntries(p1.body.data.map((m: any) => [m.userId, m.email]))).toEqual({
      user_alice: "alice@acme.test",
      user_carol: "carol@acme.test",
      user_ivan: "ivan@nowhere.test",
    });
  });

  it("0006 gives an organization whose people all came through its projects an owner (legacy admin first), audited", async () => {
    // Guards issue 9 item 2. Before 0006, Orphan had two members and no owner.
    expect(unrepaired.orphanRoles).toEqual({ user_alice: "member", user_bob: "member" });
    const members = await api("user_bob", "/v1/organizations/5/members");
    expect(Object.fromEntries(members.body.data.map((m: any) => [m.userId, m.role]))).toEqual({
      user_alice: "member",
      user_bob: "owner",
    });
    const audit = await api("user_bob", "/v1/organizations/5/audit-events");
    expect(audit.body.data).toEqual([
      {
        id: expect.stringMatching(/^evt_/),
        action: "member.promoted",
        actor: null,
        target: { type: "member", id: "user_bob" },
        data: { from: "member", to: "owner", reason: "legacy_ownerless" },
        createdAt: expect.any(String),
      },
    ]);
    // Organizations that had an owner are untouched, and so is one with no members at all.
    const promoted = await db
      .prepare("SELECT organization_id FROM audit_events WHERE action = 'member.promoted'")
      .raw();
    expect(promoted).toEqual([["5"]]);
    // The new owner can act: rename the organization.
    const renamed = await api("user_bob", "/v1/organizations/5", "PATCH", { name: "Orphan no more" });
    expect(renamed.status).toBe(200);
  });

  it("case-colliding legacy addresses: neither claimant is verified until Clerk says so", async () => {
    // Guards issue 9 item 4. Before 0006 both held a verified kim@shared.test.
    expect(unrepaired.kimVerified).toEqual([1, 1]);
    for (const id of ["user_kim", "user_kimberly"]) {
      const me = await api(id, "/v1/me");
      // Still their legacy address (item 1), but no longer one they can accept invites with.
      expect(me.body.user.email, id).toBe("kim@shared.test");
      expect(me.body.user.emails, id).toEqual([{ email: "kim@shared.test", verified: false }]);
    }
    const sent = await api("user_bob", "/v1/organizations/5/invites", "POST", { emails: ["kim@shared.test"] });
    expect(sent.status).toBe(201);
    const inviteId = sent.body.results[0].invite.id;
    for (const id of ["user_kim", "user_kimberly"]) {
      expect((await api(id, "/v1/me/invites")).body.data, id).toEqual([]);
      // Matching only an unverified address of theirs: 403 EMAIL_NOT_VERIFIED (API.md).
      const refused = await api(id, `/v1/invites/${inviteId}/accept`, "POST");
      expect([refused.status, refused.body.code], id).toEqual([403, "EMAIL_NOT_VERIFIED"]);
    }
    // Clerk says whose it is: Kim's user.updated with the address verified.
    const outcome = await applyUserUpsert(
      db,
      { svixId: `msg_${crypto.randomUUID()}`, type: "user.updated" },
      {
        id: "user_kim",
        email_addresses: [{ id: "idn_kim", email_address: "Kim@Shared.test", verification: { status: "verified" } }],
        primary_email_address_id: "idn_kim",
        first_name: "Kim",
        updated_at: 10_000,
      },
      Date.now(),
    );
    expect(outcome).toBe("applied");
    const stillRefused = await api("user_kimberly", `/v1/invites/${inviteId}/accept`, "POST");
    expect([stillRefused.status, stillRefused.body.code]).toEqual([403, "EMAIL_NOT_VERIFIED"]);
    const accepted = await api("user_kim", `/v1/invites/${inviteId}/accept`, "POST");
    expect(accepted.status).toBe(200);
    expect(accepted.body.organization.id).toBe("5");
  });

  it("0006 repairs data the webhook stored before the fix: unverified claims, legacy claims Clerk verified for another", async () => {
    // Guards issue 9 items 4 and 9 on a database already migrated.
    const rows = await db
      .prepare(
        `SELECT a.id, a.email, ue.verified FROM admins a JOIN user_emails ue ON ue.user_id = a.id
         WHERE ue.email = 'lou@shared.test' ORDER BY a.id`,
      )
      .raw();
    expect(rows).toEqual([
      // The squatter gives up the address it never verified; the verified holder takes it.
      ["clerk_lou", "lou@shared.test", 1],
      ["clerk_squatter", "clerk_squatter@users.invalid", 0],
      // The legacy user keeps their legacy value (nothing lost) but no longer accepts with it.
      ["user_lou", "Lou@Shared.test", 0],
    ]);
  });

  it("0006 is idempotent: running it again on a repaired database changes nothing", async () => {
    const before = await repairableState();
    await runQueries(repair.filter((m) => m.name.startsWith(REPAIR)));
    expect(await repairableState()).toEqual(before);
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
      user_kim: "member",
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
