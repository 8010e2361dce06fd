import type { Config } from "../config";
import type { Db } from "../db";
import { ApiError } from "../errors";
import { requirePlatformAdmin } from "../platform-admins";
import { prepare, sql } from "../sql";
import { admitStatements, gatedBatch } from "./gate";

/**
 * An operator admits a user from the waitlist (API.md `POST /v1/platform/waitlist/{userId}/admit`):
 * one batch — the cap guard, the admission and its `user.admitted` event, and the read back. An
 * active user is answered as admitted (idempotent); an unknown one is 404.
 */
export async function admitUser(
  db: Db,
  config: Config,
  input: { operatorId: string; userId: string; now: number },
): Promise<{ userId: string; access: "active" }> {
  requirePlatformAdmin(config, input.operatorId);
  const results = await gatedBatch(db, [
    ...admitStatements(db, config, {
      userId: input.userId,
      now: input.now,
      actorId: input.operatorId,
      via: "operator",
    }),
    prepare(db, sql`SELECT access FROM admins WHERE id = ${input.userId}`),
  ]);
  const row = results.at(-1)?.results[0] as { access: string } | undefined;
  if (row === undefined) throw new ApiError("NOT_FOUND", "No such user.");
  if (row.access !== "active") throw new ApiError("CONFLICT", "The user changed meanwhile; try again.");
  return { userId: input.userId, access: "active" };
}
