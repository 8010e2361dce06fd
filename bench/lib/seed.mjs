// The bench database: the real migrations, then data at realistic size, generated inside SQLite
// with recursive CTEs (`WITH RECURSIVE n(i) … INSERT … SELECT`): a few dozen statements and almost
// no bound parameters, so D1's 100-parameters-per-statement limit never applies and seeding 185k
// rows takes seconds.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ROOT } from "./workers.mjs";

export const SIZES = {
  full: { users: 10_000, orgs: 1_000, projectsPerOrg: 5, projectMembersPerProject: 4, invites: 100_000 },
  smoke: { users: 500, orgs: 50, projectsPerOrg: 5, projectMembersPerProject: 4, invites: 5_000 },
};
// Half of the organizations have 80 members, half 20: 50 on average (50,000 memberships for 1,000
// organizations), and the member-list endpoint reads a full page of 50 from an 80-member one.
export const LARGE_ORG = 80;
export const SMALL_ORG = 20;

export const DAY = 86_400_000;

/** Migration files in order, split into statements by wrangler's own splitter (as `d1 migrations apply`). */
export async function readMigrations() {
  const { unstable_splitSqlQuery } = await import("wrangler");
  const dir = path.join(ROOT, "migrations");
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql"));
  names.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10) || a.localeCompare(b));
  return Promise.all(
    names.map(async (name) => ({
      name,
      queries: unstable_splitSqlQuery(await readFile(path.join(dir, name), "utf8")),
    })),
  );
}

/** Applies every migration, each as one batch (one transaction), like applyD1Migrations. */
export async function applyMigrations(db, migrations) {
  for (const migration of migrations) {
    try {
      await db.batch(migration.queries.map((q) => db.prepare(q)));
    } catch (error) {
      throw new Error(`migration ${migration.name} failed: ${error.message}`);
    }
  }
}

export const range = (name, n) => `${name}(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM ${name} WHERE i + 1 < ${n})`;
// SQL expressions for ids and addresses, shared by every statement (and the peer's seed,
// bench/lib/peer.mjs) so rows line up.
export const userId = (expr) => `printf('user_bench_%06d', ${expr})`;
export const userEmail = (expr) => `printf('u%06d@bench.example', ${expr})`;
export const orgId = (expr) => `printf('org_bench_%05d', ${expr})`;
export const orgDomain = (expr) => `printf('o%05d.bench.example', ${expr})`;
const projectId = (expr) => `printf('prj_bench_%06d', ${expr})`;
export const orgSize = (o) => `(CASE WHEN (${o}) % 2 = 0 THEN ${LARGE_ORG} ELSE ${SMALL_ORG} END)`;
/** The user in membership slot j of organization o: distinct for every j of one organization. */
export const slotUser = (o, j, users) => `((${o}) * 37 + (${j}) * 211) % ${users}`;
export const slotRole = (o, j) =>
  `(CASE WHEN ${j} = 0 THEN 'owner' WHEN ${j} = 1 THEN 'director' WHEN ${j} IN (2, 3) THEN 'manager'
         WHEN ${j} = ${orgSize(o)} - 1 THEN 'guest' ELSE 'member' END)`;

/**
 * The endpoint data set. Invites, in mixed states:
 *  40% pending, addressed to a bench user's verified address, for an organization (1 in 5: a
 *      project) they are not in: the banner feed and the accept pool
 *  30% pending to outside addresses (1 in 10 already past expires_at): the resend pool
 *  10% accepted, 5% declined, 5% revoked, 10% expired
 */
export function seedStatements(size, now) {
  const U = size.users;
  const O = size.orgs;
  const P = O * size.projectsPerOrg;
  const PM = size.projectMembersPerProject;
  const n = (f) => Math.round(size.invites * f);
  const t0 = now - 400 * DAY;
  const sql = [];

  sql.push(`WITH RECURSIVE ${range("u", U)}
    INSERT INTO admins (id, email, name, role, created_at, clerk_updated_at, updated_at)
    SELECT ${userId("i")}, ${userEmail("i")}, 'Bench User ' || i, 'member', ${t0} + i * 1000, ${t0} + i * 1000, ${t0} + i * 1000 FROM u`);
  sql.push(`INSERT INTO user_emails (user_id, email, verified, is_primary, created_at)
    SELECT id, email, 1, 1, created_at FROM admins WHERE id LIKE 'user_bench_%'`);
  // One user in five also has an unverified second address.
  sql.push(`WITH RECURSIVE ${range("u", U)}
    INSERT INTO user_emails (user_id, email, verified, is_primary, created_at)
    SELECT ${userId("i")}, printf('u%06d@alt.bench.example', i), 0, 0, ${t0} FROM u WHERE i % 5 = 0`);

  sql.push(`WITH RECURSIVE ${range("o", O)}
    INSERT INTO organizations (id, name, created_at, slug, max_members, updated_at)
    SELECT ${orgId("i")}, 'Bench Org ' || i, ${t0} + i * 1000, printf('bench-org-%05d', i), NULL, ${t0} + i * 1000 FROM o`);
  sql.push(`WITH RECURSIVE ${range("o", O)}, ${range("j", LARGE_ORG)}
    INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
    SELECT ${orgId("o.i")}, ${userId(slotUser("o.i", "j.i", U))}, ${slotRole("o.i", "j.i")},
           ${t0} + 100 * 86400000 + j.i * 60000, ${t0} + 100 * 86400000 + j.i * 60000
    FROM o, j WHERE j.i < ${orgSize("o.i")}`);

  sql.push(`WITH RECURSIVE ${range("p", P)}
    INSERT INTO projects (id, organization_id, name, created_at)
    SELECT ${projectId("i")}, ${orgId(`i / ${size.projectsPerOrg}`)}, 'Bench Project ' || i, ${t0} + 200 * 86400000 + i FROM p`);
  // Project members are members of the project's organization: slots 0..19 (every org has 20).
  sql.push(`WITH RECURSIVE ${range("p", P)}, ${range("q", PM)}
    INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at)
    SELECT ${projectId("p.i")},
           ${userId(slotUser(`p.i / ${size.projectsPerOrg}`, `(p.i % ${size.projectsPerOrg}) * ${PM} + q.i`, U))},
           CASE q.i WHEN 0 THEN 'admin' WHEN 1 THEN 'editor' ELSE 'viewer' END,
           ${t0} + 200 * 86400000 + q.i, ${t0} + 200 * 86400000 + q.i
    FROM p, q`);

  const invite = ({
    count,
    cte = `${range("n", count)}`,
    from = "n",
    id,
    org,
    project,
    email,
    role,
    status,
    by,
    extra,
  }) =>
    `WITH RECURSIVE ${cte}
    INSERT INTO invites (id, organization_id, project_id, email, role, project_role, status, token_hash, token_version,
                         invited_by, accepted_by, accepted_at, expires_at, created_at, updated_at, delivery_status,
                         delivery_attempts, delivery_sent_at)
    SELECT ${id}, ${org}, ${project}, ${email}, ${role}, CASE WHEN (${project}) IS NULL THEN NULL ELSE 'viewer' END,
           '${status}', lower(hex(randomblob(32))), 1, ${by}, ${extra.acceptedBy ?? "NULL"}, ${extra.acceptedAt ?? "NULL"},
           ${extra.expiresAt}, ${extra.createdAt}, ${extra.updatedAt}, 'sent', 1, ${extra.createdAt}
    FROM ${from}${extra.where ? ` WHERE ${extra.where}` : ""}`;
  const owner = (o) => userId(slotUser(o, 0, U));

  // The accept pool: user i % U, their (i / U)-th invite, to an organization they are not in.
  const acceptOrg = `((i % ${U}) * 13 + (i / ${U}) * 97 + 1) % ${O}`;
  // A quarter more candidates than needed: those whose user is already in the organization are
  // skipped, and LIMIT keeps the pool at its share.
  sql.push(
    invite({
      count: n(0.4),
      cte: `${range("n", Math.ceil(n(0.4) * 1.25))}, c AS (SELECT i, ${acceptOrg} AS o FROM n)`,
      from: "c",
      id: "printf('inv_bench_pool_%06d', i)",
      org: orgId("o"),
      project: `CASE WHEN i % 5 = 4 THEN ${projectId(`o * ${size.projectsPerOrg} + (i / 5) % ${size.projectsPerOrg}`)} END`,
      email: userEmail(`i % ${U}`),
      role: "'member'",
      status: "pending",
      by: owner("o"),
      extra: {
        expiresAt: `${now} + 6 * 86400000 - i`,
        createdAt: `${now} - 86400000 - i`,
        updatedAt: `${now} - 86400000 - i`,
        where: `NOT EXISTS (SELECT 1 FROM organization_users ou
                            WHERE ou.organization_id = ${orgId("o")} AND ou.user_id = ${userId(`i % ${U}`)})
                ORDER BY i LIMIT ${n(0.4)}`,
      },
    }),
  );
  sql.push(
    invite({
      count: n(0.3),
      id: "printf('inv_bench_ext_%06d', i)",
      org: orgId(`i % ${O}`),
      project: `CASE WHEN i % 5 = 4 THEN ${projectId(`(i % ${O}) * ${size.projectsPerOrg} + (i / ${O}) % ${size.projectsPerOrg}`)} END`,
      email: "printf('x%06d@outside.example', i)",
      role: "'member'",
      status: "pending",
      by: owner(`i % ${O}`),
      extra: {
        expiresAt: `CASE WHEN i % 10 = 0 THEN ${now} - 3600000 ELSE ${now} + 5 * 86400000 END`,
        createdAt: `${now} - 2 * 86400000 - i`,
        updatedAt: `${now} - 2 * 86400000 - i`,
      },
    }),
  );
  // Existing accounts (issue 13's endpoints): each organization claims its own domain
  // (o00042.bench.example, enrollment 'request'), and one user in ten also holds a verified
  // address at the domain of organization (user % orgs): suggestions and join requests for them.
  sql.push(`WITH RECURSIVE ${range("o", O)}
    INSERT INTO organization_domains (organization_id, domain, enrollment, verified_by, created_at, updated_at)
    SELECT ${orgId("i")}, ${orgDomain("i")}, 'request', NULL, ${t0}, ${t0} FROM o`);
  sql.push(`WITH RECURSIVE ${range("u", U)}
    INSERT INTO user_emails (user_id, email, verified, is_primary, created_at)
    SELECT ${userId("i")}, printf('u%06d@', i) || ${orgDomain(`i % ${O}`)}, 1, 0, ${t0} FROM u WHERE i % 10 = 3`);
  const finished = [
    ["done", "accepted", 0.1],
    ["dec", "declined", 0.05],
    ["rev", "revoked", 0.05],
    ["exp", "expired", 0.1],
  ];
  for (const [tag, status, share] of finished) {
    sql.push(
      invite({
        count: n(share),
        id: `printf('inv_bench_${tag}_%06d', i)`,
        org: orgId(`i % ${O}`),
        project: "NULL",
        email: status === "accepted" ? userEmail(`(i * 7) % ${U}`) : `printf('${tag}%06d@old.example', i)`,
        role: "'member'",
        status,
        by: owner(`i % ${O}`),
        extra: {
          acceptedBy: status === "accepted" ? userId(`(i * 7) % ${U}`) : undefined,
          acceptedAt: status === "accepted" ? `${now} - 3 * 86400000 - i` : undefined,
          expiresAt: `${now} - 86400000 - i`,
          createdAt: `${now} - 8 * 86400000 - i`,
          // Within the retention window: the purge would not touch them yet.
          updatedAt: `${now} - 3 * 86400000 - i`,
        },
      }),
    );
  }
  return sql;
}

/**
 * The expiry job's own database: a few users and organizations, and `count` pending invites past
 * `expires_at` (the backlog the job marks expired and, past retention, deletes).
 */
export function purgeSeedStatements(count, now) {
  const O = 100;
  return [
    `WITH RECURSIVE ${range("o", O)}
     INSERT INTO admins (id, email, name, role, created_at, clerk_updated_at, updated_at)
     SELECT ${userId("i")}, ${userEmail("i")}, 'Bench User ' || i, 'member', ${now - DAY}, ${now - DAY}, ${now - DAY} FROM o`,
    `WITH RECURSIVE ${range("o", O)}
     INSERT INTO organizations (id, name, created_at, slug, updated_at)
     SELECT ${orgId("i")}, 'Bench Org ' || i, ${now - DAY}, printf('bench-org-%05d', i), ${now - DAY} FROM o`,
    `WITH RECURSIVE ${range("o", O)}
     INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
     SELECT ${orgId("i")}, ${userId("i")}, 'owner', ${now - DAY}, ${now - DAY} FROM o`,
    `WITH RECURSIVE ${range("n", count)}
     INSERT INTO invites (id, organization_id, project_id, email, role, project_role, status, token_hash, invited_by,
                          expires_at, created_at, updated_at, delivery_status, delivery_attempts)
     SELECT printf('inv_purge_%06d', i), ${orgId(`i % ${O}`)}, NULL, printf('p%06d@purge.example', i), 'member', NULL,
            'pending', lower(hex(randomblob(32))), ${userId(`i % ${O}`)},
            ${now} - 3600000 - i, ${now} - 8 * 86400000, ${now} - 8 * 86400000, 'sent', 1
     FROM n`,
  ];
}

/**
 * Runs the statements one by one; returns, for each INSERT, its table, the rows it inserted and
 * how much the database grew (D1's `meta.size_after`): the capacity model's bytes per row.
 */
export async function runStatements(db, statements) {
  let size = (await db.prepare("SELECT 1").run()).meta.size_after ?? null;
  const growth = [];
  for (const statement of statements) {
    let meta;
    try {
      ({ meta } = await db.prepare(statement).run());
    } catch (error) {
      throw new Error(`seed statement failed: ${error.message}\n${statement}`);
    }
    const table = /INSERT INTO (\w+)/.exec(statement)?.[1];
    if (table && size !== null && meta.size_after != null) {
      growth.push({ table, rows: meta.changes, bytes: meta.size_after - size });
    }
    size = meta.size_after ?? size;
  }
  return growth;
}

/** Row counts of the seeded tables, for the report. */
export async function tableCounts(db) {
  const tables = [
    "admins",
    "user_emails",
    "organizations",
    "organization_users",
    "projects",
    "project_admins",
    "invites",
    "organization_domains",
  ];
  const row = await db.prepare(`SELECT ${tables.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(", ")}`).first();
  return row;
}
