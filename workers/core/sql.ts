import type { Db } from "./db";

/**
 * The one way Roster composes SQL: a tagged template in which each value is bound where it is
 * interpolated and fragments compose as values, so no statement depends on the order in which
 * pieces were pasted (never a string of `?`s beside a separate list of values).
 *
 * It has the shape of drizzle-orm's `sql` (`sql`, `sql.raw`, `sql.join`, `sql.identifier`) but is
 * our own: rendering the hot statements through drizzle's `sql` cost more than the 10 % of CPU per
 * request the reshaping allowed (BENCHMARKS.md, "The reshaped core"), and this needs ~40 lines.
 * Table and column names still come from the drizzle schema (`schema/`), via `sql.identifier`.
 */

/** What may stand in a template: a fragment (composed in place) or a value (bound there). */
export type SqlValue = SQL | string | number | null;

export class SQL {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly SqlValue[],
  ) {}
}

function template(strings: TemplateStringsArray, ...values: SqlValue[]): SQL {
  return new SQL(strings, values);
}

/** Trusted text, inserted as is (constants of the code, never a request's value). */
function raw(text: string): SQL {
  return new SQL([text], []);
}

/** A quoted identifier, e.g. a column name taken from the schema. */
function identifier(name: string): SQL {
  return raw(`"${name.replaceAll('"', '""')}"`);
}

/** The fragments separated by `separator`. */
function join(parts: readonly SQL[], separator: SQL): SQL {
  const values: SqlValue[] = [];
  parts.forEach((part, i) => {
    if (i > 0) values.push(separator);
    values.push(part);
  });
  return new SQL(
    Array.from({ length: values.length + 1 }, () => ""),
    values,
  );
}

export const sql = Object.assign(template, { raw, identifier, join });

/** The text (with a `?` per value, in order) and the values a fragment renders to. */
export function render(query: SQL): { sql: string; params: (string | number | null)[] } {
  const params: (string | number | null)[] = [];
  const walk = (q: SQL): string => {
    let text = q.strings[0] ?? "";
    for (let i = 0; i < q.values.length; i++) {
      const value = q.values[i] as SqlValue;
      if (value instanceof SQL) {
        text += walk(value);
      } else {
        text += "?";
        params.push(value);
      }
      text += q.strings[i + 1] ?? "";
    }
    return text;
  };
  return { sql: walk(query), params };
}

/** A D1 statement from a template: a plain D1 statement, for `db.batch`, `changes()` and the counter. */
export function prepare(db: Db, query: SQL): D1PreparedStatement {
  const { sql: text, params } = render(query);
  return db.prepare(text).bind(...params);
}
