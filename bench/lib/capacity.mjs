// The capacity model's inputs (issue 16, part 4): what each table and its indexes take on disk per
// row, read from SQLite's own page accounting (`dbstat`) after the endpoints ran — so the audit and
// outbox rows counted are those the real write paths wrote — and the writes per second one
// database's primary sustains at each write endpoint's measured SQL time.

/** D1's per-database size limit on Workers Paid (developers.cloudflare.com/d1/platform/limits/). */
export const D1_MAX_DATABASE_BYTES = 10 * 1000 ** 3;

/**
 * Bytes per row by table, from how much the database grew while the seed inserted them (table and
 * index pages, as the file holds them), plus the audit row and outbox event every write adds:
 * measured by copying the `invite.created` audit rows the endpoints wrote (the trigger adds their
 * events), so their `data` is what the real write path stores.
 */
export async function storagePerRow(db, seedGrowth) {
  const byTable = {};
  for (const g of seedGrowth) {
    byTable[g.table] ??= { table: g.table, rows: 0, bytes: 0 };
    const t = byTable[g.table];
    t.rows += g.rows;
    t.bytes += g.bytes;
  }
  const size = async () => (await db.prepare("SELECT 1").run()).meta.size_after;
  const before = await size();
  const copied = await db
    .prepare(
      `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
       SELECT 'evt_capacity_' || id, organization_id, actor_id, action, target_type, target_id, data, created_at
       FROM audit_events WHERE action = 'invite.created' AND id NOT LIKE 'evt_capacity_%' LIMIT 20000`,
    )
    .run();
  const rows = copied.meta.changes;
  if (rows > 0) {
    byTable["audit_events + events"] = { table: "audit_events + events", rows, bytes: (await size()) - before };
  }
  const tables = Object.values(byTable).map((t) => ({
    ...t,
    bytes_per_row: t.rows > 0 ? Math.round(t.bytes / t.rows) : null,
  }));
  return { database_bytes: await size(), tables };
}

/**
 * Writes per second one database sustains per write endpoint: D1 runs a database's writes one at a
 * time on its primary, so 1000 / (SQL ms per request) is the ceiling (the SQL time D1 reports,
 * measured here on a local SQLite; the production figure is D1's own `meta.duration`).
 */
export function writeCeilings(endpoints) {
  return endpoints
    .filter((e) => e.kind === "write" && e.d1_sql_ms > 0)
    .map((e) => ({ key: e.key, name: e.name, sql_ms: e.d1_sql_ms, per_second: Math.floor(1000 / e.d1_sql_ms) }));
}

/** BENCHMARKS.md lines for the storage and the write ceilings. */
export function capacityLines(storage, ceilings) {
  const out = [];
  if (ceilings?.length > 0) {
    out.push(
      "",
      "**Write ceiling of one database** (its writes run one at a time on the primary: 1000 ÷ SQL ms per request):",
      "",
      "| write endpoint | D1 SQL ms | requests/s |",
      "|---|---:|---:|",
      ...ceilings.map((c) => `| \`${c.name}\` | ${c.sql_ms.toFixed(2)} | ${c.per_second.toLocaleString("en-US")} |`),
    );
  }
  if (storage?.tables) {
    const inLimit = (b) => (b > 0 ? Math.floor(D1_MAX_DATABASE_BYTES / b).toLocaleString("en-US") : "–");
    out.push(
      "",
      `**Storage per row** (how much the database grew per row inserted — table and index pages as the file ` +
        `holds them; the database was ${(storage.database_bytes / 2 ** 20).toFixed(0)} MiB after the run; ` +
        "rows in 10 GB if the table had the database to itself):",
      "",
      "| table | rows measured | bytes/row | rows in 10 GB |",
      "|---|---:|---:|---:|",
      ...storage.tables
        .filter((t) => t.rows > 0)
        .map(
          (t) =>
            `| ${t.table} | ${t.rows.toLocaleString("en-US")} | ${t.bytes_per_row} | ${inLimit(t.bytes_per_row)} |`,
        ),
    );
  }
  return out;
}
