import { verifyToken } from "@clerk/backend";

/**
 * The bench's baseline: what any authenticated Worker route must do, and nothing else. Every route
 * verifies the Clerk session token exactly as Roster does (`verifyToken` with `jwtKey`, networkless),
 * then:
 *   GET  /const   a constant JSON response (the floor: workerd + auth + JSON)
 *   GET  /select  one D1 SELECT by primary key (the caller's `admins` row): reads are compared to it
 *   POST /insert  one D1 INSERT (an audit row): writes are compared to it
 * and, for the cost model in BENCHMARKS.md, GET /select?trips=T&batch=K: T sequential round trips,
 * each a batch of K primary-key SELECTs (what one more round trip, or one more statement, costs),
 * and POST /queue?messages=N: one sendBatch of N invite-sized messages (what enqueueing costs).
 */
interface BaselineEnv {
  DB: D1Database;
  CLERK_JWT_KEY: string;
  /** A queue producer like EMAIL_QUEUE (no consumer in the bench: sends are accepted and dropped). */
  BENCH_QUEUE: Queue;
}

const JSON_HEADERS = { "Content-Type": "application/json; charset=utf-8" };

async function authenticate(request: Request, env: BaselineEnv): Promise<string | null> {
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(request.headers.get("Authorization") ?? "");
  if (!match?.[1]) return null;
  try {
    const payload = await verifyToken(match[1], { jwtKey: env.CLERK_JWT_KEY });
    return typeof payload.sub === "string" ? payload.sub : null;
  } catch {
    return null;
  }
}

export default {
  async fetch(request: Request, env: BaselineEnv): Promise<Response> {
    const userId = await authenticate(request, env);
    if (userId === null) return new Response('{"error":"unauthenticated"}', { status: 401, headers: JSON_HEADERS });
    const url = new URL(request.url);
    const { pathname } = url;
    if (request.method === "GET" && pathname === "/const") {
      return new Response(JSON.stringify({ ok: true, userId }), { headers: JSON_HEADERS });
    }
    if (request.method === "GET" && pathname === "/select" && url.search !== "") {
      const trips = Math.min(Math.max(Number(url.searchParams.get("trips") ?? 1), 1), 10);
      const size = Math.min(Math.max(Number(url.searchParams.get("batch") ?? 1), 1), 50);
      const select = env.DB.prepare("SELECT id, email, name, created_at FROM admins WHERE id = ?").bind(userId);
      let rows = 0;
      for (let t = 0; t < trips; t++) {
        const results = await env.DB.batch(Array.from({ length: size }, () => select));
        rows += results.reduce((n, r) => n + r.results.length, 0);
      }
      return new Response(JSON.stringify({ rows }), { headers: JSON_HEADERS });
    }
    if (request.method === "GET" && pathname === "/select") {
      const row = await env.DB.prepare("SELECT id, email, name, created_at FROM admins WHERE id = ?")
        .bind(userId)
        .first();
      return new Response(JSON.stringify({ user: row }), { status: row === null ? 404 : 200, headers: JSON_HEADERS });
    }
    if (request.method === "POST" && pathname === "/queue") {
      const n = Math.min(Math.max(Number(url.searchParams.get("messages") ?? 1), 1), 100);
      await env.BENCH_QUEUE.sendBatch(
        Array.from({ length: n }, (_, i) => ({
          body: { type: "invite", inviteId: `inv_bench_${i}`, tokenVersion: 1, token: "x".repeat(43) },
          contentType: "json" as const,
        })),
      );
      return new Response(JSON.stringify({ sent: n }), { status: 201, headers: JSON_HEADERS });
    }
    if (request.method === "POST" && pathname === "/insert") {
      await request.arrayBuffer();
      const id = `evt_bench_${crypto.randomUUID()}`;
      await env.DB.prepare(
        `INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
         VALUES (?, 'bench-baseline', ?, 'bench.insert', 'bench', ?, '{}', ?)`,
      )
        .bind(id, userId, id, Date.now())
        .run();
      return new Response(JSON.stringify({ id }), { status: 201, headers: JSON_HEADERS });
    }
    return new Response('{"error":"not found"}', { status: 404, headers: JSON_HEADERS });
  },
};
