import { z } from "zod";
import { ApiError } from "./errors";
import { type SQL, sql } from "./sql";

/**
 * Keyset pagination. A cursor is the opaque base64url form of the last row's sort key
 * `[sortValue, id]`; the next page starts strictly after it, so pages stay stable while rows are
 * inserted and no OFFSET scan grows with depth.
 */
export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(512).optional(),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

export type CursorKey = [number | string, string];

export function encodeCursor(key: CursorKey): string {
  const bytes = new TextEncoder().encode(JSON.stringify(key));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string | undefined): CursorKey | null {
  if (cursor === undefined) return null;
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const key = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    if (
      Array.isArray(key) &&
      key.length === 2 &&
      (typeof key[0] === "number" || typeof key[0] === "string") &&
      typeof key[1] === "string"
    ) {
      return key as CursorKey;
    }
  } catch {
    // fall through
  }
  throw new ApiError("VALIDATION_FAILED", "The cursor is not valid.", {
    errors: [{ path: "cursor", message: "Invalid cursor" }],
  });
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * Rows were fetched with LIMIT limit+1: the extra row only tells that another page exists.
 */
export function toPage<R, T>(rows: R[], limit: number, key: (row: R) => CursorKey, map: (row: R) => T): Page<T> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    data: pageRows.map(map),
    nextCursor: hasMore && last !== undefined ? encodeCursor(key(last)) : null,
  };
}

/**
 * The keyset condition "strictly after the cursor" for `ORDER BY sortColumn, idColumn` ascending,
 * where the sort value is a number (a timestamp): a SQL fragment and its params. No cursor is the
 * first page (a condition that always holds). A cursor whose sort value is not a number did not
 * come from this list: 400.
 */
export function afterNumericCursor(cursor: string | undefined, sortColumn: string, idColumn: string): SQL {
  const key = decodeCursor(cursor);
  if (key === null) return sql`1 = 1`;
  const [sort, id] = key;
  if (typeof sort !== "number" || !Number.isFinite(sort)) {
    throw new ApiError("VALIDATION_FAILED", "The cursor is not valid.", {
      errors: [{ path: "cursor", message: "Invalid cursor" }],
    });
  }
  const [s, i] = [sql.raw(sortColumn), sql.raw(idColumn)];
  return sql`(${s} > ${sort} OR (${s} = ${sort} AND ${i} > ${id}))`;
}
