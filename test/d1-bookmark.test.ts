import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { D1_BOOKMARK_PATTERN, handleFetch } from "../workers/api/router";
import { BASE, type CallResult, readResult, seedUser, signToken } from "./helpers";

/**
 * `x-d1-bookmark` (issue 9, item 10): only a bookmark D1 issued is honoured; anything else starts
 * the request's D1 session on the primary instead of reaching `withSession`, where
 * `first-unconstrained` would let the client pick any replica, however stale, and garbage would be
 * a D1 error. The Worker runs against the real local D1, through a binding that records where each
 * session starts (and otherwise is the real one).
 */
interface Run extends CallResult {
  /** What the Worker passed to `withSession`. */
  starts: string[];
}

async function get(path: string, userId: string, bookmark?: string, init: RequestInit = {}): Promise<Run> {
  const starts: string[] = [];
  const db = new Proxy(env.DB, {
    get(target, property) {
      if (property === "withSession") {
        return (start: string) => {
          starts.push(start);
          return target.withSession(start);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${await signToken(userId)}`);
  if (bookmark !== undefined) headers.set("x-d1-bookmark", bookmark);
  const ctx = createExecutionContext();
  const response = await handleFetch(
    new Request(`${BASE}${path}`, { ...init, headers }),
    { ...env, DB: db } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { ...(await readResult(response)), starts };
}

describe("x-d1-bookmark", () => {
  it("local D1 issues bookmarks of the documented shape (8-8-8-32 hex digits)", async () => {
    const user = await seedUser();
    const res = await get("/v1/me", user.id);
    expect(res.status).toBe(200);
    expect(res.starts).toEqual(["first-primary"]);
    expect(res.headers.get("x-d1-bookmark")).toMatch(D1_BOOKMARK_PATTERN);
    // The example in Cloudflare's Time Travel documentation has the same shape.
    expect("00000001-00000002-00004e2f-0a83ea2fceebc654de0640c422be4653").toMatch(D1_BOOKMARK_PATTERN);
  });

  it("a real bookmark from an earlier response is honoured: the next session starts at it", async () => {
    const user = await seedUser();
    const first = await get("/v1/me", user.id);
    const bookmark = first.headers.get("x-d1-bookmark") as string;
    expect(bookmark).toMatch(D1_BOOKMARK_PATTERN);
    const next = await get("/v1/me", user.id, bookmark);
    expect(next.status).toBe(200);
    expect(next.starts).toEqual([bookmark]);
    // Bookmarks sort oldest to newest: the session never went back in time.
    const after = next.headers.get("x-d1-bookmark") as string;
    expect(after).toMatch(D1_BOOKMARK_PATTERN);
    expect(after >= bookmark).toBe(true);
  });

  const ignored: [string, string][] = [
    ["first-unconstrained (any replica, however stale)", "first-unconstrained"],
    ["first-primary spelled by the client", "first-primary"],
    ["garbage", "garbage"],
    ["an empty value", ""],
    ["upper-case hex", "00000000-00000008-00000000-0000000000000000000000000000000A"],
    ["a field too short", "0000000-00000008-00000000-00000000000000000000000000000000"],
    [
      "a bookmark with something appended",
      "00000000-00000008-00000000-00000000000000000000000000000000,first-unconstrained",
    ],
    ["an over-long value (a real bookmark and 8 KiB more)", `00000000-00000008-00000000-${"0".repeat(32 + 8192)}`],
    ["SQL-looking text", "'; DROP TABLE invites; --"],
  ];
  for (const [label, value] of ignored) {
    it(`ignores ${label}: the session starts on the primary, never a 500`, async () => {
      const user = await seedUser();
      const res = await get("/v1/me", user.id, value);
      expect(res.status, res.text).toBe(200);
      expect(res.starts).toEqual(["first-primary"]);
      // What comes back is a bookmark D1 issued, never the client's value echoed.
      expect(res.headers.get("x-d1-bookmark")).toMatch(D1_BOOKMARK_PATTERN);
    });
  }

  it("a write with a garbage bookmark succeeds on the primary", async () => {
    const user = await seedUser();
    const res = await get("/v1/organizations", user.id, "first-unconstrained", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Bookmarked" }),
    });
    expect(res.status, res.text).toBe(201);
    expect(res.starts).toEqual(["first-primary"]);
    const read = await get(`/v1/organizations/${res.body.id}`, user.id, res.headers.get("x-d1-bookmark") as string);
    expect(read.status).toBe(200);
    expect(read.body.name).toBe("Bookmarked");
  });
});
