import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clientIpKey, purgeRateLimitsStatement } from "../workers/core/rate-limit";
import { expectProblem, inOneWindow, seedOrg, seedUser } from "./helpers";
import { api, barrier, seedInvite, spyQueue } from "./invite-helpers";

const mail = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}@example.com`;
const invites = (n: number) => Array.from({ length: n }, (_, i) => mail(`rl${i}`));

function expectRetryAfter(res: { headers: Headers }, max: number): void {
  const value = Number(res.headers.get("Retry-After"));
  expect(Number.isInteger(value)).toBe(true);
  expect(value).toBeGreaterThan(0);
  expect(value).toBeLessThanOrEqual(max);
}

async function inviteCount(orgId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM invites WHERE organization_id = ?")
    .bind(orgId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("invite rate limit (RATE_LIMIT_INVITES_PER_HOUR addresses per organization and per inviter)", () => {
  const vars = { RATE_LIMIT_INVITES_PER_HOUR: "3" };
  const HOUR = 3_600_000;

  it("refuses a request that would go over with 429 RATE_LIMITED and Retry-After, creating nothing", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const owner = await seedUser();
      const org = await seedOrg(owner.id);
      const path = `/v1/organizations/${org.id}/invites`;
      const first = invites(2);
      const ok = await api("POST", path, { as: owner.id, body: { emails: first }, vars });
      const queue = spyQueue();
      const over = await api("POST", path, { as: owner.id, body: { emails: invites(2) }, vars, queue });
      const countAfterOver = await inviteCount(org.id);
      // Addresses that are not invited anew (already invited) do not count.
      const again = await api("POST", path, { as: owner.id, body: { emails: first }, vars });
      const third = await api("POST", path, { as: owner.id, body: { emails: invites(1) }, vars });
      const fourth = await api("POST", path, { as: owner.id, body: { emails: invites(1) }, vars });
      return { ok, over, queue, countAfterOver, again, third, fourth };
    });
    expect(run.ok.status).toBe(201);
    expectProblem(run.over, 429, "RATE_LIMITED");
    expectRetryAfter(run.over, 3600);
    expect(run.queue.calls).toEqual([]);
    expect(run.countAfterOver).toBe(2);
    expect(run.again.body.results.map((r: any) => r.outcome)).toEqual(["already_invited", "already_invited"]);
    expect(run.third.status).toBe(201);
    expectProblem(run.fourth, 429, "RATE_LIMITED");
  });

  it("counts per inviter across organizations", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const inviter = await seedUser();
      const orgA = await seedOrg(inviter.id);
      const orgB = await seedOrg(inviter.id);
      const a = await api("POST", `/v1/organizations/${orgA.id}/invites`, {
        as: inviter.id,
        body: { emails: invites(2) },
        vars,
      });
      const b = await api("POST", `/v1/organizations/${orgB.id}/invites`, {
        as: inviter.id,
        body: { emails: invites(2) },
        vars,
      });
      return { a, b, countB: await inviteCount(orgB.id) };
    });
    expect(run.a.status).toBe(201);
    expectProblem(run.b, 429, "RATE_LIMITED");
    expect(run.countB).toBe(0);
  });

  it("counts per organization across inviters; resends count too", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const owner = await seedUser();
      const manager = await seedUser();
      const org = await seedOrg(owner.id, { members: [{ id: manager.id, role: "manager" }] });
      const path = `/v1/organizations/${org.id}/invites`;
      const created = await api("POST", path, { as: owner.id, body: { emails: invites(2) }, vars });
      const id = created.body.results[0].invite.id;
      const resent = await api("POST", `/v1/invites/${id}/resend`, { as: manager.id, vars });
      const over = await api("POST", path, { as: manager.id, body: { emails: invites(1) }, vars });
      const resendOver = await api("POST", `/v1/invites/${id}/resend`, { as: owner.id, vars });
      return { created, resent, over, resendOver };
    });
    expect(run.created.status).toBe(201);
    expect(run.resent.status).toBe(200);
    expectProblem(run.over, 429, "RATE_LIMITED");
    expectProblem(run.resendOver, 429, "RATE_LIMITED");
    expectRetryAfter(run.resendOver, 3600);
  });

  it("concurrent requests that all reach their batch together cannot together overshoot the limit", async () => {
    const run = await inOneWindow(HOUR, async () => {
      const owner = await seedUser();
      const org = await seedOrg(owner.id);
      const writes = barrier(6);
      const responses = await Promise.all(
        Array.from({ length: 6 }, () =>
          api("POST", `/v1/organizations/${org.id}/invites`, {
            as: owner.id,
            body: { emails: invites(1) },
            vars,
            counter: { trips: 0, beforeBatch: (i) => (i === 0 ? writes.wait() : Promise.resolve()) },
          }),
        ),
      );
      return { responses, count: await inviteCount(org.id) };
    });
    expect(run.responses.filter((r) => r.status === 201)).toHaveLength(3);
    for (const r of run.responses.filter((r) => r.status !== 201)) expectProblem(r, 429, "RATE_LIMITED");
    expect(run.count).toBe(3);
  });

  it("the limiter adds no D1 round trip (create stays at one)", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const counter = { trips: 0 };
    const res = await api("POST", `/v1/organizations/${org.id}/invites`, {
      as: owner.id,
      body: { emails: invites(3) },
      vars,
      counter,
    });
    expect(res.status).toBe(201);
    expect(counter.trips).toBe(1);
  });
});

describe("token rate limit (RATE_LIMIT_TOKEN_PER_MINUTE per client IP: preview and accept by token)", () => {
  const vars = { RATE_LIMIT_TOKEN_PER_MINUTE: "3" };
  const MINUTE = 60_000;
  const randomByte = () => crypto.getRandomValues(new Uint8Array(1))[0] as number;

  it("counts preview and accept-by-token together per IP, unknown tokens included; other IPs unaffected", async () => {
    const run = await inOneWindow(MINUTE, async () => {
      const owner = await seedUser();
      const org = await seedOrg(owner.id);
      const invitee = await seedUser();
      const inv = await seedInvite({ orgId: org.id, email: invitee.email, invitedBy: owner.id });
      const ip = `203.0.${randomByte()}.${randomByte()}`;
      const preview = (token: string) => api("POST", "/v1/invites/preview", { body: { token }, ip, vars });
      const statuses = [
        await preview(inv.token),
        await preview("C".repeat(43)),
        await api("POST", "/v1/invites/accept", { as: invitee.id, body: { token: "D".repeat(43) }, ip, vars }),
      ];
      const limited = await preview(inv.token);
      const acceptLimited = await api("POST", "/v1/invites/accept", {
        as: invitee.id,
        body: { token: inv.token },
        ip,
        vars,
      });
      const row = await env.DB.prepare("SELECT status FROM invites WHERE id = ?")
        .bind(inv.id)
        .first<{ status: string }>();
      const otherIp = await api("POST", "/v1/invites/preview", { body: { token: inv.token }, vars });
      const byId = await api("POST", `/v1/invites/${inv.id}/accept`, { as: invitee.id, ip, vars });
      return { statuses, limited, acceptLimited, status: row?.status, otherIp, byId };
    });
    expect(run.statuses.map((r) => r.status)).toEqual([200, 404, 404]);
    expectProblem(run.limited, 429, "RATE_LIMITED");
    expectRetryAfter(run.limited, 60);
    expectProblem(run.acceptLimited, 429, "RATE_LIMITED");
    // A rate-limited accept changed nothing.
    expect(run.status).toBe("pending");
    // Another address is not limited, and the banner path (by id, signed in) is not token-limited.
    expect(run.otherIp.status).toBe(200);
    expect(run.byId.status).toBe(200);
  });

  it("IPv6 clients count per /64", async () => {
    const run = await inOneWindow(MINUTE, async () => {
      const owner = await seedUser();
      const org = await seedOrg(owner.id);
      const inv = await seedInvite({ orgId: org.id, email: mail("v6"), invitedBy: owner.id });
      const prefix = `2001:db8:${randomByte().toString(16)}${randomByte().toString(16)}:1`;
      const preview = (ip: string) => api("POST", "/v1/invites/preview", { body: { token: inv.token }, ip, vars });
      const allowed = [await preview(`${prefix}::1`), await preview(`${prefix}::2`), await preview(`${prefix}::3`)];
      return { allowed, limited: await preview(`${prefix}:0:0:0:99`) };
    });
    expect(run.allowed.map((r) => r.status)).toEqual([200, 200, 200]);
    expectProblem(run.limited, 429, "RATE_LIMITED");
  });

  it("clientIpKey normalises addresses", () => {
    expect(clientIpKey("192.0.2.1")).toBe("192.0.2.1");
    expect(clientIpKey(" 192.0.2.1 ")).toBe("192.0.2.1");
    expect(clientIpKey(null)).toBe("unknown");
    expect(clientIpKey("")).toBe("unknown");
    expect(clientIpKey("not an ip")).toBe("unknown");
    expect(clientIpKey("2001:DB8:0:1:2:3:4:5")).toBe("2001:db8:0:1::/64");
    expect(clientIpKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientIpKey("2001:0db8:0000:0001::ffff")).toBe("2001:db8:0:1::/64");
    expect(clientIpKey("::1")).toBe("0:0:0:0::/64");
  });
});

describe("purgeRateLimitsStatement", () => {
  it("deletes ended windows only, in bounded chunks", async () => {
    const now = Date.now();
    const tag = crypto.randomUUID();
    // Windows at the dawn of time: the oldest rows in the table, whatever other tests left there.
    const old = Array.from({ length: 3 }, (_, i) => [`purge:${tag}:old${i}`, i + 1] as const);
    const current = [`purge:${tag}:current`, Math.floor(now / 60_000) * 60_000] as const;
    await env.DB.batch(
      [...old, current].map(([key, start]) =>
        env.DB.prepare("INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)").bind(key, start),
      ),
    );
    const remaining = async () =>
      (
        await env.DB.prepare("SELECT key FROM rate_limits WHERE key LIKE ? ORDER BY key")
          .bind(`purge:${tag}:%`)
          .all<{ key: string }>()
      ).results.map((r) => r.key);
    // A chunk of 1 deletes exactly one of the oldest ended windows.
    await purgeRateLimitsStatement(env.DB, now, 1).run();
    expect((await remaining()).length).toBe(3);
    while ((await purgeRateLimitsStatement(env.DB, now, 1000).run()).meta.changes > 0) {
      // drain
    }
    expect(await remaining()).toEqual([current[0]]);
  });
});
