// What the bench loads: Roster's endpoints and the baseline's routes. Each one reads its fixtures
// from the seeded database (which users may call it, on what) and hands out requests in rotation,
// so the load comes from many different users, organizations and invites.
import { LARGE_ORG } from "./seed.mjs";

/** The operator of the bench (PLATFORM_ADMIN_USER_IDS of its Workers): reads the events feed. */
export const OPERATOR = "user_bench_000001";

/** A small deterministic PRNG (mulberry32): the same run order every time. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(items, seed) {
  const next = random(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Cycles through `items` forever. */
function cycle(items, make) {
  if (items.length === 0) throw new Error("no fixtures");
  let i = 0;
  return () => make(items[i++ % items.length]);
}

/** Hands out each item once; null when the pool is used up. */
function once(items, make) {
  let i = 0;
  return {
    next: () => (i < items.length ? make(items[i++]) : null),
    remaining: () => items.length - i,
  };
}

async function rows(db, sql, ...params) {
  return (
    await db
      .prepare(sql)
      .bind(...params)
      .all()
  ).results;
}

const JSON_BODY = { "Content-Type": "application/json" };

/**
 * `readers`: how many distinct users (or user/organization pairs) the read endpoints rotate over.
 * `runTag`: makes invited addresses unique to this run.
 */
export function definitions({ readers, runTag, usersTotal }) {
  const sampleUsers = (db, seed) =>
    rows(db, "SELECT id FROM admins WHERE id LIKE 'user_bench_%' ORDER BY id").then((r) =>
      shuffle(
        r.map((x) => x.id),
        seed,
      ).slice(0, readers),
    );
  // Who may invite: owners, directors and managers, of every organization.
  const inviters = (db) =>
    rows(
      db,
      `SELECT organization_id AS org, user_id AS user FROM organization_users
       WHERE organization_id LIKE 'org_bench_%' AND role IN ('owner', 'director', 'manager')`,
    ).then((r) => shuffle(r, 7));
  // Users with a verified address at an organization's domain who are not its members.
  const domainUsers = (db) =>
    rows(
      db,
      `SELECT d.organization_id AS org, ue.user_id AS user FROM user_emails ue
       JOIN organization_domains d ON d.domain = substr(ue.email, instr(ue.email, '@') + 1)
       WHERE ue.verified = 1 AND ue.email LIKE '%@o%.bench.example'
         AND NOT EXISTS (SELECT 1 FROM organization_users m WHERE m.organization_id = d.organization_id AND m.user_id = ue.user_id)`,
    );
  let invited = 0;
  const newAddresses = (n) => Array.from({ length: n }, (_, k) => `n${runTag}-${++invited}-${k}@new.bench.example`);
  // Enqueueing can fail without failing the request (the invite's delivery becomes "failed"):
  // the bench reports how often it happened under load.
  const enqueueFailures = async (db) => {
    const row = await db
      .prepare(
        `SELECT count(*) AS failed FROM invites
         WHERE email LIKE ? AND delivery_status = 'failed' AND delivery_error = 'enqueue failed'`,
      )
      .bind(`n${runTag}-%`)
      .first();
    return { enqueue_failed_invites: row?.failed ?? 0 };
  };
  const inviteRequest = (size) => (pair) => ({
    method: "POST",
    path: `/v1/organizations/${pair.org}/invites`,
    userId: pair.user,
    headers: JSON_BODY,
    body: JSON.stringify({ emails: newAddresses(size), role: "member" }),
  });
  // Every address is new, so each request exercises the create path, not "already_invited".
  const allInvited = (size) => (body) => {
    const results = body?.results;
    if (!Array.isArray(results) || results.length !== size) return `expected ${size} results`;
    const other = results.find((r) => r.outcome !== "invited");
    return other ? `outcome ${other.outcome} for a new address` : null;
  };

  const baselines = [
    {
      key: "const",
      name: "baseline: constant",
      kind: "read",
      async prepare(db) {
        const users = await sampleUsers(db, 1);
        return { users, next: cycle(users, (u) => ({ method: "GET", path: "/const", userId: u })) };
      },
    },
    {
      key: "select",
      name: "baseline: SELECT by PK",
      kind: "read",
      async prepare(db) {
        const users = await sampleUsers(db, 2);
        return { users, next: cycle(users, (u) => ({ method: "GET", path: "/select", userId: u })) };
      },
    },
    {
      key: "insert",
      name: "baseline: INSERT",
      kind: "write",
      async prepare(db) {
        const users = await sampleUsers(db, 3);
        return {
          users,
          next: cycle(users, (u) => ({ method: "POST", path: "/insert", userId: u, headers: JSON_BODY, body: "{}" })),
        };
      },
    },
  ];

  // The cost model: what one more round trip, or one more statement in a batch, costs locally.
  const calibration = [
    ["cal_t1_b1", 1, 1],
    ["cal_t1_b10", 1, 10],
    ["cal_t3_b1", 3, 1],
  ].map(([key, trips, batch]) => ({
    key,
    name: `calibration: ${trips} round trip(s) × batch of ${batch}`,
    kind: "read",
    trips,
    batch,
    async prepare(db) {
      const users = await sampleUsers(db, 4);
      const path = `/select?trips=${trips}&batch=${batch}`;
      return { users, next: cycle(users, (u) => ({ method: "GET", path, userId: u })) };
    },
  }));
  for (const messages of [1, 10]) {
    calibration.push({
      key: `cal_queue_${messages}`,
      name: `calibration: enqueue ${messages} message(s)`,
      kind: "write",
      async prepare(db) {
        const users = await sampleUsers(db, 5);
        const path = `/queue?messages=${messages}`;
        return { users, next: cycle(users, (u) => ({ method: "POST", path, userId: u })) };
      },
    });
  }

  const endpoints = [
    {
      key: "me",
      name: "GET /v1/me",
      route: ["get", "/v1/me"],
      kind: "read",
      async prepare(db) {
        const users = await sampleUsers(db, 11);
        return { users, next: cycle(users, (u) => ({ method: "GET", path: "/v1/me", userId: u })) };
      },
    },
    {
      key: "me_invites",
      name: "GET /v1/me/invites",
      route: ["get", "/v1/me/invites"],
      kind: "read",
      async prepare(db) {
        // Bench users have a few pending invites each (the accept pool): a non-empty banner feed.
        const users = await sampleUsers(db, 12);
        return { users, next: cycle(users, (u) => ({ method: "GET", path: "/v1/me/invites", userId: u })) };
      },
      validate: (body) => (Array.isArray(body?.data) && body.data.length > 0 ? null : "empty banner feed"),
    },
    {
      key: "me_referrals",
      name: "GET /v1/me/referrals",
      route: ["get", "/v1/me/referrals"],
      kind: "read",
      async prepare(db) {
        // Every request also carries the sign-up gate's statement (not waitlist-exempt).
        const users = await sampleUsers(db, 17);
        return { users, next: cycle(users, (u) => ({ method: "GET", path: "/v1/me/referrals", userId: u })) };
      },
      validate: (body) => (Array.isArray(body?.data) ? null : "no list"),
    },
    {
      key: "platform_invitations",
      name: "GET /v1/platform/invitations (the caller's)",
      route: ["get", "/v1/platform/invitations"],
      kind: "read",
      async prepare(db) {
        const users = await sampleUsers(db, 18);
        return {
          users,
          next: cycle(users, (u) => ({ method: "GET", path: "/v1/platform/invitations?status=pending", userId: u })),
        };
      },
      validate: (body) => (Array.isArray(body?.data) ? null : "no list"),
    },
    {
      key: "members",
      name: "GET /v1/organizations/{id}/members (page of 50)",
      route: ["get", "/v1/organizations/{orgId}/members"],
      kind: "read",
      async prepare(db) {
        // Members (not guests) of the 80-member organizations: a full page and a next cursor.
        const pairs = shuffle(
          await rows(
            db,
            `SELECT ou.organization_id AS org, ou.user_id AS user FROM organization_users ou
             WHERE ou.role != 'guest' AND ou.organization_id IN (
               SELECT organization_id FROM organization_users WHERE organization_id LIKE 'org_bench_%'
               GROUP BY organization_id HAVING count(*) >= ?)`,
            LARGE_ORG,
          ),
          13,
        ).slice(0, readers);
        return {
          users: pairs.map((p) => p.user),
          next: cycle(pairs, (p) => ({
            method: "GET",
            path: `/v1/organizations/${p.org}/members?limit=50`,
            userId: p.user,
          })),
        };
      },
      validate: (body) =>
        body?.data?.length === 50 && typeof body.nextCursor === "string" ? null : "expected a full page of 50",
    },
    {
      key: "invite_1",
      enqueues: true,
      name: "POST /v1/organizations/{id}/invites (1 address)",
      route: ["post", "/v1/organizations/{orgId}/invites"],
      kind: "write",
      async prepare(db) {
        const pairs = await inviters(db);
        return { users: pairs.map((p) => p.user), next: cycle(pairs, inviteRequest(1)) };
      },
      validate: allInvited(1),
      after: enqueueFailures,
    },
    {
      key: "invite_1_events",
      enqueues: true,
      events: true,
      name: "POST /v1/organizations/{id}/invites (1 address, EVENTS_WEBHOOK_URL set)",
      route: ["post", "/v1/organizations/{orgId}/invites"],
      kind: "write",
      async prepare(db) {
        const pairs = shuffle(await inviters(db), 21);
        return { users: pairs.map((p) => p.user), next: cycle(pairs, inviteRequest(1)) };
      },
      validate: allInvited(1),
      // The events this run wrote, by delivery status (the receiver is local: most are sent).
      after: async (db) => {
        const { results } = await db
          .prepare("SELECT status, count(*) AS n FROM events WHERE type = 'invite.created' GROUP BY status")
          .all();
        return Object.fromEntries(results.map((r) => [r.status, r.n]));
      },
    },
    {
      key: "invite_50",
      enqueues: true,
      name: "POST /v1/organizations/{id}/invites (50 addresses)",
      route: ["post", "/v1/organizations/{orgId}/invites"],
      kind: "write",
      async prepare(db) {
        const pairs = shuffle(await inviters(db), 14);
        return { users: pairs.map((p) => p.user), next: cycle(pairs, inviteRequest(50)) };
      },
      validate: allInvited(50),
      after: enqueueFailures,
    },
    {
      key: "accept",
      name: "POST /v1/invites/{id}/accept",
      route: ["post", "/v1/invites/{inviteId}/accept"],
      kind: "write",
      finite: true,
      async prepare(db) {
        // Each request accepts a different pending invite, addressed to the caller's verified
        // primary address (seeded as the accept pool; 1 in 5 is a project invite).
        const pool = shuffle(
          await rows(
            db,
            `SELECT i.id, a.id AS user FROM invites i JOIN admins a ON a.email = i.email
             WHERE i.id LIKE 'inv_bench_pool_%' AND i.status = 'pending' AND i.expires_at > ?`,
            Date.now() + 3_600_000,
          ),
          15,
        );
        const pick = once(pool, (row) => ({ method: "POST", path: `/v1/invites/${row.id}/accept`, userId: row.user }));
        return { users: pool.map((r) => r.user), next: pick.next, remaining: pick.remaining, poolSize: pool.length };
      },
      validate: (body) => (body?.organization?.id ? null : "no organization in the accept response"),
    },
    {
      key: "resend",
      enqueues: true,
      name: "POST /v1/invites/{id}/resend",
      route: ["post", "/v1/invites/{inviteId}/resend"],
      kind: "write",
      async prepare(db) {
        // Pending invites to outside addresses (1 in 10 past expires_at), resent by their inviter
        // (the organization's owner); each invite comes round at most once per run in practice.
        const pool = shuffle(
          await rows(
            db,
            `SELECT id, invited_by AS user FROM invites
             WHERE id LIKE 'inv_bench_ext_%' AND status IN ('pending', 'expired')`,
          ),
          16,
        );
        return {
          users: pool.map((r) => r.user),
          next: cycle(pool, (row) => ({ method: "POST", path: `/v1/invites/${row.id}/resend`, userId: row.user })),
        };
      },
      validate: (body) => (body?.id ? null : "no invite in the resend response"),
    },
    // Existing accounts and the events feed (issues 12–13): seeded domains (seed.mjs) give one
    // bench user in ten a verified address at one organization's domain.
    {
      key: "suggestions",
      name: "GET /v1/me/suggestions",
      route: ["get", "/v1/me/suggestions"],
      kind: "read",
      async prepare(db) {
        const users = shuffle(
          (await domainUsers(db)).map((r) => r.user),
          17,
        ).slice(0, readers);
        return { users, next: cycle(users, (u) => ({ method: "GET", path: "/v1/me/suggestions", userId: u })) };
      },
      validate: (body) => (Array.isArray(body?.data) && body.data.length > 0 ? null : "no suggestion"),
    },
    {
      key: "domains",
      name: "GET /v1/organizations/{id}/domains",
      route: ["get", "/v1/organizations/{orgId}/domains"],
      kind: "read",
      async prepare(db) {
        const pairs = shuffle(
          await rows(
            db,
            `SELECT organization_id AS org, user_id AS user FROM organization_users
             WHERE organization_id LIKE 'org_bench_%' AND role != 'guest'`,
          ),
          18,
        ).slice(0, readers);
        return {
          users: pairs.map((p) => p.user),
          next: cycle(pairs, (p) => ({ method: "GET", path: `/v1/organizations/${p.org}/domains`, userId: p.user })),
        };
      },
      validate: (body) => (body?.data?.length === 1 ? null : "expected the organization's one domain"),
    },
    {
      key: "join_request",
      name: "POST /v1/organizations/{id}/join-requests",
      route: ["post", "/v1/organizations/{orgId}/join-requests"],
      kind: "write",
      async prepare(db) {
        // The first request of a user creates it (201), later ones find it pending (200).
        const pairs = shuffle(await domainUsers(db), 19);
        return {
          users: pairs.map((p) => p.user),
          next: cycle(pairs, (p) => ({
            method: "POST",
            path: `/v1/organizations/${p.org}/join-requests`,
            userId: p.user,
            headers: JSON_BODY,
            body: "{}",
          })),
        };
      },
      validate: (body) => (body?.id && body.status === "pending" ? null : "no pending join request"),
    },
    {
      key: "consent_add",
      enqueues: true,
      name: "POST /v1/organizations/{id}/members (consent-pending add)",
      route: ["post", "/v1/organizations/{orgId}/members"],
      kind: "write",
      async prepare(db) {
        // An owner adds a bench user who is not a member: the first add is `invited`, a repeat
        // `already_invited` (both 201).
        const pairs = shuffle(
          await rows(
            db,
            `SELECT ou.organization_id AS org, ou.user_id AS owner, a.id AS user
             FROM organization_users ou
             JOIN (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) ks
             JOIN admins a ON a.id = printf('user_bench_%06d',
                                            (CAST(substr(ou.organization_id, 11) AS INTEGER) * 131 + ks.k * 1009) % ?)
             WHERE ou.organization_id LIKE 'org_bench_%' AND ou.role = 'owner'
               AND NOT EXISTS (SELECT 1 FROM organization_users m WHERE m.organization_id = ou.organization_id AND m.user_id = a.id)`,
            usersTotal,
          ),
          20,
        );
        return {
          users: pairs.map((p) => p.owner),
          next: cycle(pairs, (p) => ({
            method: "POST",
            path: `/v1/organizations/${p.org}/members`,
            userId: p.owner,
            headers: JSON_BODY,
            body: JSON.stringify({ userId: p.user, role: "member" }),
          })),
        };
      },
      validate: (body) =>
        ["invited", "already_invited"].includes(body?.outcome) && body?.invite?.id ? null : "no consent-pending invite",
    },
    {
      key: "platform_events",
      name: "GET /v1/platform/events (operator, page of 50)",
      route: ["get", "/v1/platform/events"],
      kind: "read",
      async prepare() {
        return {
          users: [OPERATOR],
          next: cycle([OPERATOR], (u) => ({ method: "GET", path: "/v1/platform/events?limit=50", userId: u })),
        };
      },
      validate: (body) => (Array.isArray(body?.data) ? null : "no event list"),
    },
  ];
  return { baselines, calibration, endpoints };
}
