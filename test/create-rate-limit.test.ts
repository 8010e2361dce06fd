import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditOf, expectProblem, inOneWindow, seedOrg, seedUser } from "./helpers";
import { api, barrier } from "./invite-helpers";

/**
 * Creating organizations and projects is rate limited per user (issue 9, item 12):
 * RATE_LIMIT_CREATES_PER_HOUR creates of either kind per user per hour, 429 RATE_LIMITED with
 * Retry-After beyond it, counted inside the create's own D1 batch (no extra round trip, and
 * concurrent creates cannot together overshoot the limit).
 */
const vars = { RATE_LIMIT_CREATES_PER_HOUR: "3" };
const HOUR = 3_600_000;

async function ownedOrgs(userId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM organization_users WHERE user_id = ? AND role = 'owner'")
    .bind(userId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function projectsOf(orgId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM projects WHERE organization_id = ?")
    .bind(orgId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

const createOrg = (userId: string, name = "Limited", extra: Record<string, unknown> = {}) =>
  api("POST", "/v1/organizations", { as: userId, body: { name, ...extra }, vars });
const createProject = (userId: string, orgId: string) =>
  api("POST", `/v1/organizations/${orgId}/projects`, { as: userId, body: { name: "Limited project" }, vars });

function expectRetryAfter(res: { headers: Headers }): void {
  const value = Number(res.headers.get("Retry-After"));
  expect(Number.isInteger(value)).toBe(true);
  expect(value).toBeGreaterThan(0);
  expect(value).toBeLessThanOrEqual(3600);
}

describe("create rate limit (RATE_LIMIT_CREATES_PER_HOUR organizations and projects per user)", () => {
  it("the create over the limit is 429 RATE_LIMITED with Retry-After and creates nothing", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const user = await seedUser();
      const ok = [await createOrg(user.id), await createOrg(user.id), await createOrg(user.id)];
      const over = await createOrg(user.id, "One too many");
      const orgRow = await env.DB.prepare(
        "SELECT count(*) AS n FROM organizations o JOIN organization_users ou ON ou.organization_id = o.id WHERE ou.user_id = ? AND o.name = 'One too many'",
      )
        .bind(user.id)
        .first<{ n: number }>();
      return { ok, over, owned: await ownedOrgs(user.id), overRows: orgRow?.n };
    });
    for (const res of run.ok) expect(res.status, res.text).toBe(201);
    expectProblem(run.over, 429, "RATE_LIMITED");
    expectRetryAfter(run.over);
    expect(run.owned).toBe(3);
    expect(run.overRows).toBe(0);
  });

  it("organizations and projects share one window; a refused project writes nothing, audit included", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const user = await seedUser();
      const org = await seedOrg(user.id);
      const first = await createOrg(user.id);
      const second = await createOrg(user.id);
      const project = await createProject(user.id, org.id);
      const auditBefore = await auditOf(org.id);
      const over = await createProject(user.id, org.id);
      const orgOver = await createOrg(user.id);
      return {
        first,
        second,
        project,
        over,
        orgOver,
        auditBefore,
        auditAfter: await auditOf(org.id),
        count: await projectsOf(org.id),
      };
    });
    expect([run.first.status, run.second.status, run.project.status]).toEqual([201, 201, 201]);
    expectProblem(run.over, 429, "RATE_LIMITED");
    expectRetryAfter(run.over);
    expectProblem(run.orgOver, 429, "RATE_LIMITED");
    expect(run.count).toBe(1);
    expect(run.auditAfter).toEqual(run.auditBefore);
  });

  it("counts per user: another user's creates are not limited by it", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const busy = await seedUser();
      const other = await seedUser();
      for (let i = 0; i < 3; i++) await createOrg(busy.id);
      return { busy: await createOrg(busy.id), other: await createOrg(other.id) };
    });
    expectProblem(run.busy, 429, "RATE_LIMITED");
    expect(run.other.status).toBe(201);
  });

  it("a create that fails (SLUG_TAKEN) does not count: its batch, increment included, rolls back", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const user = await seedUser();
      const taken = `taken-${crypto.randomUUID().slice(0, 8)}`;
      const created = await createOrg(user.id, "Slugged", { slug: taken });
      const conflicts = [];
      for (let i = 0; i < 3; i++) conflicts.push(await createOrg(user.id, "Again", { slug: taken }));
      return { created, conflicts, next: [await createOrg(user.id), await createOrg(user.id)] };
    });
    expect(run.created.status).toBe(201);
    for (const res of run.conflicts) expectProblem(res, 409, "SLUG_TAKEN");
    expect(run.next.map((r) => r.status)).toEqual([201, 201]);
  });

  it("concurrent creates that all reach their batch together cannot together overshoot the limit", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const user = await seedUser();
      const writes = barrier(6);
      const responses = await Promise.all(
        Array.from({ length: 6 }, () =>
          api("POST", "/v1/organizations", {
            as: user.id,
            body: { name: "Concurrent" },
            vars,
            counter: { trips: 0, beforeBatch: () => writes.wait() },
          }),
        ),
      );
      return { responses, owned: await ownedOrgs(user.id) };
    });
    expect(run.responses.filter((r) => r.status === 201)).toHaveLength(3);
    for (const r of run.responses.filter((r) => r.status !== 201)) expectProblem(r, 429, "RATE_LIMITED");
    expect(run.owned).toBe(3);
  });

  it("the limiter adds no D1 round trip: an organization create is one, allowed or refused", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const user = await seedUser();
      for (let i = 0; i < 3; i++) await createOrg(user.id);
      const refused = { trips: 0 };
      const res = await api("POST", "/v1/organizations", {
        as: user.id,
        body: { name: "Counted" },
        vars,
        counter: refused,
      });
      const other = await seedUser();
      const allowed = { trips: 0 };
      const ok = await api("POST", "/v1/organizations", {
        as: other.id,
        body: { name: "Counted" },
        vars,
        counter: allowed,
      });
      return { res, ok, refused: refused.trips, allowed: allowed.trips };
    });
    expectProblem(run.res, 429, "RATE_LIMITED");
    expect(run.ok.status).toBe(201);
    expect({ refused: run.refused, allowed: run.allowed }).toEqual({ refused: 1, allowed: 1 });
  });

  it("defaults to 100 an hour: the 100th create is allowed, the 101st refused", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const user = await seedUser();
      // 99 creates already counted in this window (seeded, rather than made one by one).
      await env.DB.prepare("INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 99)")
        .bind(`create:user:${user.id}`, Math.floor(Date.now() / HOUR) * HOUR)
        .run();
      const hundredth = await api("POST", "/v1/organizations", { as: user.id, body: { name: "Hundredth" } });
      const over = await api("POST", "/v1/organizations", { as: user.id, body: { name: "Over" } });
      return { hundredth, over };
    });
    expect(run.hundredth.status).toBe(201);
    expectProblem(run.over, 429, "RATE_LIMITED");
  });
});
