// The peer side by side (BENCHMARKS.md "The peer"): better-auth's organization plugin on its own
// local D1, seeded with the same shape as Roster's bench data (bench/lib/seed.mjs: the same user,
// organization and invite ids, the same memberships, the same pending invites), and the five
// workloads both sides serve, each with a request maker and a response check per side.
import { createHmac } from "node:crypto";
import { request } from "./http.mjs";
import { DAY, LARGE_ORG, orgId, orgSize, range, slotRole, slotUser, userEmail, userId } from "./seed.mjs";

/** The origin the peer trusts (bench/peer/index.ts): better-auth checks it on cookie POSTs. */
export const PEER_ORIGIN = "http://peer.bench.example";
export const PEER_SECRET = "roster-bench-peer-secret-0123456789abcdef";

/** better-auth's own migration plan for an empty database, applied as one batch. */
export async function applyPeerSchema(db, peerUrl) {
  const response = await request(new URL("/__bench/schema", peerUrl));
  if (response.status !== 200) throw new Error(`peer schema: ${response.status} ${response.text.slice(0, 300)}`);
  const { unstable_splitSqlQuery } = await import("wrangler");
  const queries = unstable_splitSqlQuery(response.text);
  await db.batch(queries.map((q) => db.prepare(q)));
  return queries.length;
}

// better-auth stores dates as ISO strings on SQLite (its adapter has no native dates there).
const iso = (ms) => `strftime('%Y-%m-%dT%H:%M:%fZ', (${ms}) / 1000.0, 'unixepoch')`;
// Roster's five ranks on better-auth's three default roles.
const peerRole = (o, j) =>
  `(CASE ${slotRole(o, j)} WHEN 'owner' THEN 'owner' WHEN 'director' THEN 'admin' WHEN 'manager' THEN 'admin' ELSE 'member' END)`;
const sessionToken = (i) => `printf('tok_bench_%06d', ${i})`;

/**
 * The peer's data: every Roster bench user (verified address) with one live session, the same
 * organizations and memberships, and the same invites — better-auth has no projects, so Roster's
 * project invites become organization invites, and it has no `expired` status (it compares
 * `expiresAt`), so expired invites stay `pending` with a past expiry, as better-auth leaves them.
 */
export function peerSeedStatements(size, now) {
  const U = size.users;
  const O = size.orgs;
  const n = (f) => Math.round(size.invites * f);
  const t0 = now - 400 * DAY;
  const sql = [];
  sql.push(`WITH RECURSIVE ${range("u", U)}
    INSERT INTO "user" (id, name, email, emailVerified, image, createdAt, updatedAt)
    SELECT ${userId("i")}, 'Bench User ' || i, ${userEmail("i")}, 1, NULL, ${iso(`${t0} + i * 1000`)}, ${iso(`${t0} + i * 1000`)} FROM u`);
  // Fresh sessions: none is old enough for better-auth to refresh it (a write) during the run.
  sql.push(`WITH RECURSIVE ${range("u", U)}
    INSERT INTO session (id, expiresAt, token, createdAt, updatedAt, ipAddress, userAgent, userId, activeOrganizationId)
    SELECT printf('sess_bench_%06d', i), ${iso(`${now} + 7 * ${DAY}`)}, ${sessionToken("i")}, ${iso(now)}, ${iso(now)},
           '127.0.0.1', 'roster-bench', ${userId("i")}, NULL FROM u`);
  sql.push(`WITH RECURSIVE ${range("o", O)}
    INSERT INTO organization (id, name, slug, logo, createdAt, metadata)
    SELECT ${orgId("i")}, 'Bench Org ' || i, printf('bench-org-%05d', i), NULL, ${iso(`${t0} + i * 1000`)}, NULL FROM o`);
  sql.push(`WITH RECURSIVE ${range("o", O)}, ${range("j", LARGE_ORG)}
    INSERT INTO member (id, organizationId, userId, role, createdAt)
    SELECT printf('mem_bench_%05d_%02d', o.i, j.i), ${orgId("o.i")}, ${userId(slotUser("o.i", "j.i", U))}, ${peerRole("o.i", "j.i")},
           ${iso(`${t0} + 100 * ${DAY} + j.i * 60000`)}
    FROM o, j WHERE j.i < ${orgSize("o.i")}`);
  const owner = (o) => userId(slotUser(o, 0, U));
  // `o`: the organization's index; invited by its owner, as in seed.mjs.
  const invitation = ({ cte, from, id, o, email, status, expires, created, where }) =>
    `WITH RECURSIVE ${cte}
     INSERT INTO invitation (id, organizationId, email, role, status, expiresAt, createdAt, inviterId)
     SELECT ${id}, ${orgId(o)}, ${email}, 'member', '${status}', ${iso(expires)}, ${iso(created)}, ${owner(o)}
     FROM ${from}${where ? ` WHERE ${where}` : ""}`;
  // The accept pool, exactly as seed.mjs draws it (same ids, same users, same organizations).
  const acceptOrg = `((i % ${U}) * 13 + (i / ${U}) * 97 + 1) % ${O}`;
  sql.push(
    invitation({
      cte: `${range("n", Math.ceil(n(0.4) * 1.25))}, c AS (SELECT i, ${acceptOrg} AS o FROM n)`,
      from: "c",
      id: "printf('inv_bench_pool_%06d', i)",
      o: "o",
      email: userEmail(`i % ${U}`),
      status: "pending",
      expires: `${now} + 6 * ${DAY} - i`,
      created: `${now} - ${DAY} - i`,
      where: `NOT EXISTS (SELECT 1 FROM member m WHERE m.organizationId = ${orgId("o")} AND m.userId = ${userId(`i % ${U}`)})
              ORDER BY i LIMIT ${n(0.4)}`,
    }),
  );
  sql.push(
    invitation({
      cte: range("n", n(0.3)),
      from: "n",
      id: "printf('inv_bench_ext_%06d', i)",
      o: `i % ${O}`,
      email: "printf('x%06d@outside.example', i)",
      status: "pending",
      expires: `CASE WHEN i % 10 = 0 THEN ${now} - 3600000 ELSE ${now} + 5 * ${DAY} END`,
      created: `${now} - 2 * ${DAY} - i`,
    }),
  );
  for (const [tag, status, share] of [
    ["done", "accepted", 0.1],
    ["dec", "rejected", 0.05],
    ["rev", "canceled", 0.05],
    ["exp", "pending", 0.1],
  ]) {
    sql.push(
      invitation({
        cte: range("n", n(share)),
        from: "n",
        id: `printf('inv_bench_${tag}_%06d', i)`,
        o: `i % ${O}`,
        email: status === "accepted" ? userEmail(`(i * 7) % ${U}`) : `printf('${tag}%06d@old.example', i)`,
        status,
        expires: `${now} - ${DAY} - i`,
        created: `${now} - 8 * ${DAY} - i`,
      }),
    );
  }
  return sql;
}

export async function peerTableCounts(db) {
  const tables = ["user", "session", "organization", "member", "invitation"];
  return db.prepare(`SELECT ${tables.map((t) => `(SELECT count(*) FROM "${t}") AS "${t}"`).join(", ")}`).first();
}

/** better-auth's session cookie for a seeded session: the token, signed with the secret (HMAC-SHA256). */
function sessionCookie(index) {
  const token = `tok_bench_${String(index).padStart(6, "0")}`;
  const signature = createHmac("sha256", PEER_SECRET).update(token).digest("base64");
  return `better-auth.session_token=${encodeURIComponent(`${token}.${signature}`)}`;
}

const userIndex = (id) => Number(id.slice("user_bench_".length));
const JSON_BODY = { "Content-Type": "application/json" };

function shuffle(items, seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

const cycle = (items, make) => {
  if (items.length === 0) throw new Error("no fixtures");
  let i = 0;
  return () => make(items[i++ % items.length]);
};
const once = (items, make) => {
  let i = 0;
  return () => (i < items.length ? make(items[i++]) : null);
};
const rows = async (db, sql, ...params) =>
  (
    await db
      .prepare(sql)
      .bind(...params)
      .all()
  ).results;

/** A request to the peer as `user` (a Roster bench user id): its session cookie and the trusted origin. */
function peerRequest(user, method, path, body) {
  return {
    method,
    path,
    userId: user,
    headers: {
      Cookie: sessionCookie(userIndex(user)),
      Origin: PEER_ORIGIN,
      ...(body === undefined ? {} : JSON_BODY),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/**
 * The five shared workloads. Each has `roster` and `peer` sides: `prepare(rosterDb, peerDb)` gives
 * `{ users, next }` (users to sign Roster tokens for), `validate(body)` checks a response. Fixtures
 * come from Roster's database (the same ids exist on the peer); the accept pools are each side's
 * own pending invites (each side consumes its own).
 */
export function peerWorkloads({ readers, runTag }) {
  const sampleUsers = async (db, seed) =>
    shuffle(
      (await rows(db, "SELECT id FROM admins WHERE id LIKE 'user_bench_%' ORDER BY id")).map((r) => r.id),
      seed,
    ).slice(0, readers);
  let invited = 0;
  const newAddress = () => `p${runTag}-${++invited}@new.bench.example`;
  const list = (key) => (body) =>
    Array.isArray(key ? body?.[key] : body) && (key ? body[key] : body).length > 0 ? null : "empty list";
  return [
    {
      key: "orgs",
      name: "list my organizations",
      roster: {
        route: "GET /v1/organizations",
        prepare: async (db) => {
          const users = await sampleUsers(db, 21);
          return { users, next: cycle(users, (u) => ({ method: "GET", path: "/v1/organizations", userId: u })) };
        },
        validate: list("data"),
      },
      peer: {
        route: "GET /api/auth/organization/list",
        prepare: async (db) => {
          const users = await sampleUsers(db, 21);
          return { users, next: cycle(users, (u) => peerRequest(u, "GET", "/api/auth/organization/list")) };
        },
        validate: list(null),
      },
    },
    {
      key: "members",
      name: "list members (page of 50)",
      ...(() => {
        // Seeded members (not guests) of the 80-member organizations, as in the main bench: not
        // those who joined by an accept during the run, who are members on one side only.
        const pairs = async (db) =>
          shuffle(
            await rows(
              db,
              `SELECT ou.organization_id AS org, ou.user_id AS user FROM organization_users ou
               WHERE ou.role != 'guest' AND ou.created_at < ? AND ou.organization_id IN (
                 SELECT organization_id FROM organization_users WHERE organization_id LIKE 'org_bench_%'
                 GROUP BY organization_id HAVING count(*) >= ?)`,
              Date.now() - DAY,
              LARGE_ORG,
            ),
            23,
          ).slice(0, readers);
        return {
          roster: {
            route: "GET /v1/organizations/{id}/members?limit=50",
            prepare: async (db) => {
              const p = await pairs(db);
              return {
                users: p.map((x) => x.user),
                next: cycle(p, (x) => ({
                  method: "GET",
                  path: `/v1/organizations/${x.org}/members?limit=50`,
                  userId: x.user,
                })),
              };
            },
            validate: (body) => (body?.data?.length === 50 ? null : "expected a page of 50"),
          },
          peer: {
            route: "GET /api/auth/organization/list-members?organizationId=…&limit=50",
            prepare: async (db) => {
              const p = await pairs(db);
              return {
                users: p.map((x) => x.user),
                next: cycle(p, (x) =>
                  peerRequest(x.user, "GET", `/api/auth/organization/list-members?organizationId=${x.org}&limit=50`),
                ),
              };
            },
            validate: (body) => (body?.members?.length === 50 ? null : "expected a page of 50"),
          },
        };
      })(),
    },
    {
      key: "my_invites",
      name: "my pending invites",
      roster: {
        route: "GET /v1/me/invites",
        prepare: async (db) => {
          const users = await sampleUsers(db, 22);
          return { users, next: cycle(users, (u) => ({ method: "GET", path: "/v1/me/invites", userId: u })) };
        },
        validate: list("data"),
      },
      peer: {
        route: "GET /api/auth/organization/list-user-invitations",
        prepare: async (db) => {
          const users = await sampleUsers(db, 22);
          return {
            users,
            next: cycle(users, (u) => peerRequest(u, "GET", "/api/auth/organization/list-user-invitations")),
          };
        },
        validate: list(null),
      },
    },
    {
      key: "invite",
      name: "create invite (1 address)",
      ...(() => {
        // Owners, directors and managers: on the peer, owners and admins (who may invite).
        const inviters = async (db) =>
          shuffle(
            await rows(
              db,
              `SELECT organization_id AS org, user_id AS user FROM organization_users
               WHERE organization_id LIKE 'org_bench_%' AND role IN ('owner', 'director', 'manager')`,
            ),
            24,
          );
        return {
          roster: {
            route: "POST /v1/organizations/{id}/invites",
            prepare: async (db) => {
              const p = await inviters(db);
              return {
                users: p.map((x) => x.user),
                next: cycle(p, (x) => ({
                  method: "POST",
                  path: `/v1/organizations/${x.org}/invites`,
                  userId: x.user,
                  headers: JSON_BODY,
                  body: JSON.stringify({ emails: [newAddress()], role: "member" }),
                })),
              };
            },
            validate: (body) => (body?.results?.[0]?.outcome === "invited" ? null : "not invited"),
          },
          peer: {
            route: "POST /api/auth/organization/invite-member",
            prepare: async (db) => {
              const p = await inviters(db);
              return {
                users: p.map((x) => x.user),
                next: cycle(p, (x) =>
                  peerRequest(x.user, "POST", "/api/auth/organization/invite-member", {
                    email: newAddress(),
                    role: "member",
                    organizationId: x.org,
                  }),
                ),
              };
            },
            validate: (body) => (body?.id && body.status === "pending" ? null : "no pending invitation"),
          },
        };
      })(),
    },
    {
      key: "accept",
      name: "accept an invite",
      roster: {
        route: "POST /v1/invites/{id}/accept",
        finite: true,
        prepare: async (db) => {
          // Organization invites only: the peer has no project invites.
          const pool = shuffle(
            await rows(
              db,
              `SELECT i.id, a.id AS user FROM invites i JOIN admins a ON a.email = i.email
               WHERE i.id LIKE 'inv_bench_pool_%' AND i.project_id IS NULL AND i.status = 'pending' AND i.expires_at > ?`,
              Date.now() + 3_600_000,
            ),
            25,
          );
          return {
            users: pool.map((r) => r.user),
            next: once(pool, (r) => ({ method: "POST", path: `/v1/invites/${r.id}/accept`, userId: r.user })),
          };
        },
        validate: (body) => (body?.organization?.id ? null : "no organization in the response"),
      },
      peer: {
        route: "POST /api/auth/organization/accept-invitation",
        finite: true,
        prepare: async (_db, peerDb) => {
          const pool = shuffle(
            await rows(
              peerDb,
              `SELECT i.id, u.id AS user FROM invitation i JOIN "user" u ON u.email = i.email
               WHERE i.id LIKE 'inv_bench_pool_%' AND i.status = 'pending' AND i.expiresAt > ?`,
              new Date(Date.now() + 3_600_000).toISOString(),
            ),
            25,
          );
          return {
            users: pool.map((r) => r.user),
            next: once(pool, (r) =>
              peerRequest(r.user, "POST", "/api/auth/organization/accept-invitation", { invitationId: r.id }),
            ),
          };
        },
        validate: (body) =>
          body?.member?.organizationId && body.invitation?.status === "accepted" ? null : "not accepted",
      },
    },
  ];
}

/** One line of what a side answered, for the report: status and a short excerpt of the body. */
export function sampleLine(sample) {
  if (!sample) return null;
  const text = JSON.stringify(sample.body);
  return `${sample.request} → ${sample.status} ${text.length > 160 ? `${text.slice(0, 157)}…` : text}`;
}
