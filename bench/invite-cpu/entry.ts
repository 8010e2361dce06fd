import { createInvites } from "../../workers/core/invites/create";

let counter = 0;
let recorded: D1Result[] | null = null;
export default {
  async fetch(req: Request, env: { DB: D1Database; Q: Queue }) {
    const url = new URL(req.url);
    const n = Number(url.searchParams.get("n") ?? "1");
    const size = Number(url.searchParams.get("size") ?? "50");
    const tag = url.searchParams.get("tag") ?? "x";
    const now = Date.now();
    // mode=fake: D1 answers with the results it gave a real call, so only the Worker's JS is timed.
    const fake = url.searchParams.get("mode") === "fake";
    // mode=dump: the statements of one call, with their values (to replay them in SQLite alone).
    const dumped: { sql: string; params: unknown[] }[] = [];
    const db = {
      prepare: (q: string) => {
        const statement = env.DB.prepare(q);
        return {
          bind: (...params: unknown[]) => {
            dumped.push({ sql: q, params });
            return statement.bind(...params);
          },
        };
      },
      batch: async (statements: D1PreparedStatement[]) => {
        if (fake && recorded) return recorded;
        const results = await env.DB.batch(statements);
        recorded = results;
        return results;
      },
    } as unknown as D1Database;
    for (let k = 0; k < n; k++) {
      const emails = Array.from({ length: size }, (_, i) => `n${tag}-${++counter}-${i}@new.bench.example`);
      const out = await createInvites(db, env.Q as never, {
        scope: { kind: "organization", orgId: url.searchParams.get("org") as string },
        inviterId: url.searchParams.get("user") as string,
        emails,
        role: "member",
        projectRole: null,
        now,
        ttlDays: 7,
        ratePerHour: 1e9,
      });
      if (out.length !== size || out.some((o) => o.outcome !== "invited")) throw new Error(JSON.stringify(out[0]));
    }
    return url.searchParams.get("mode") === "dump" ? Response.json(dumped) : new Response("ok");
  },
};
