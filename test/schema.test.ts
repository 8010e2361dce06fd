import { env } from "cloudflare:workers";
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as schema from "../schema";

/**
 * The drizzle schema in schema/ must describe exactly what the migrations build: the same tables,
 * columns (type, NOT NULL, primary key), indexes (name, uniqueness) and foreign keys. Read from
 * SQLite's own pragmas after the real migrations ran.
 */
const tables = Object.values(schema as Record<string, unknown>).filter(
  (value: unknown): value is SQLiteTable =>
    typeof value === "object" && value !== null && Symbol.for("drizzle:IsDrizzleTable") in value,
);

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}

async function pragma<T>(sql: string): Promise<T[]> {
  return (await env.DB.prepare(sql).all<T>()).results;
}

describe("drizzle schema matches the migrations", () => {
  it("describes every table the migrations create, and no other", async () => {
    const rows = await pragma<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
    );
    expect(tables.map((t) => getTableConfig(t).name).sort()).toEqual(rows.map((r) => r.name).sort());
  });

  for (const table of tables) {
    const config = getTableConfig(table);

    it(`${config.name}: columns, types, NOT NULL and primary key`, async () => {
      const actual = await pragma<ColumnInfo>(`PRAGMA table_info(${config.name})`);
      const compositePk = config.primaryKeys[0]?.columns.map((c) => c.name) ?? [];
      const expected = config.columns.map((c) => ({
        name: c.name,
        type: c.getSQLType().toUpperCase(),
        notnull: c.notNull || (c.primary && c.getSQLType() !== "integer") ? 1 : 0,
        pk: c.primary ? 1 : compositePk.includes(c.name) ? compositePk.indexOf(c.name) + 1 : 0,
      }));
      // SQLite reports NOT NULL only when declared: a TEXT PRIMARY KEY may hold NULL unless declared.
      const normalise = (list: ColumnInfo[]) =>
        list
          .map(({ name, type, notnull, pk }) => ({ name, type, notnull: pk === 1 && notnull === 0 ? 1 : notnull, pk }))
          .sort((a, b) => a.name.localeCompare(b.name));
      expect(normalise(actual)).toEqual(normalise(expected));
    });

    it(`${config.name}: indexes`, async () => {
      const actual = await pragma<{ name: string; unique: number; origin: string }>(
        `PRAGMA index_list(${config.name})`,
      );
      const named = actual.filter((i) => i.origin === "c").map((i) => ({ name: i.name, unique: i.unique }));
      const expected = config.indexes.map((i) => ({ name: i.config.name, unique: i.config.unique ? 1 : 0 }));
      expect(named.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
        expected.sort((a, b) => a.name.localeCompare(b.name)),
      );
      // Column-level UNIQUE constraints become automatic indexes.
      const autoUnique = actual.filter((i) => i.origin === "u").length;
      expect(autoUnique).toBe(config.columns.filter((c) => c.isUnique).length + config.uniqueConstraints.length);
    });

    it(`${config.name}: foreign keys`, async () => {
      const actual = await pragma<{ table: string; from: string; to: string; on_delete: string }>(
        `PRAGMA foreign_key_list(${config.name})`,
      );
      const expected = config.foreignKeys.map((fk) => {
        const ref = fk.reference();
        return {
          table: getTableConfig(ref.foreignTable).name,
          from: ref.columns[0]?.name,
          to: ref.foreignColumns[0]?.name,
          on_delete: (fk.onDelete ?? "no action").toUpperCase(),
        };
      });
      const shape = (list: { table: string; from?: string; to?: string; on_delete: string }[]) =>
        list.map(({ table, from, to, on_delete }) => `${from}->${table}.${to} ${on_delete}`).sort();
      expect(shape(actual)).toEqual(shape(expected));
    });
  }
});
