import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { organization } from "better-auth/plugins/organization";
import { delayed, latencyOf } from "../lib/d1-delay";
import { D1Trips } from "./trips";

/**
 * The peer: what a TypeScript team on Workers would pick instead of Roster — better-auth with its
 * organization plugin, on D1 through better-auth's own D1 support (`database: env.DB`). Its
 * endpoints are better-auth's, unchanged, under /api/auth; sessions are better-auth's signed
 * session cookies over rows of its `session` table (seeded by the bench).
 *
 * Two configurations, one bundle: BA_JOINS = "0" is better-auth's default; "1" adds
 * `advanced.database.joins: true`, its documented way to fetch related rows in one query.
 * Everything else is left at its default except what the bench's data needs (see `options`).
 *
 * Bench plumbing, outside better-auth: BA_COUNT_D1 = "1" counts D1 round trips per request into
 * `x-d1-round-trips` (the auth instance is then built per request around that request's counter);
 * `x-bench-d1-latency` delays each round trip (bench/lib/d1-delay.ts); GET /__bench/schema returns
 * the SQL of better-auth's own migration plan for an empty database.
 */
interface PeerEnv {
  DB: D1Database;
  INVITE_QUEUE: Queue;
  BA_SECRET: string;
  BA_JOINS?: string;
  BA_COUNT_D1?: string;
}

/** The origin the bench's requests carry: better-auth refuses cookie POSTs from untrusted origins. */
const PEER_ORIGIN = "http://peer.bench.example";

function options(env: PeerEnv, db: D1Database) {
  return {
    database: db,
    secret: env.BA_SECRET,
    baseURL: PEER_ORIGIN,
    trustedOrigins: [PEER_ORIGIN],
    emailAndPassword: { enabled: true },
    // Telemetry is opt-in already; said explicitly so the bench never reaches the network.
    telemetry: { enabled: false },
    ...(env.BA_JOINS === "1" ? { advanced: { database: { joins: true } } } : {}),
    plugins: [
      organization({
        // The bench seeds 70 pending invitations per organization (as for Roster) and creates
        // more: better-auth's default cap of 100 pending per organization would refuse them. Roster
        // has no such cap, only per-inviter rate limits.
        invitationLimit: 1_000_000,
        // Roster's organizations hold up to 80 members in the seed; the default cap is 100.
        membershipLimit: 1_000,
        // What a team would do, and what Roster does: hand the email to a queue.
        async sendInvitationEmail(data) {
          await env.INVITE_QUEUE.send({
            invitationId: data.id,
            email: data.email,
            organization: data.organization.name,
            inviter: data.inviter.user.email,
          });
        },
      }),
    ],
  };
}

export default {
  async fetch(request: Request, env: PeerEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/schema") {
      const { compileMigrations } = await getMigrations(options(env, env.DB));
      return new Response(await compileMigrations(), { headers: { "Content-Type": "text/plain" } });
    }
    const ms = latencyOf(request);
    // One instance per request. better-auth's Cloudflare guide keeps one module-level instance,
    // but one instance per isolate, warmed by a single request first, stalled under the bench's
    // 50 connections (runs completing no request while Roster on the same workerd served ~100/s;
    // BENCHMARKS.md). The price, on the peer's side: every request redoes better-auth's first-use
    // work — construction and a schema check of 2 D1 round trips — which the report states.
    const trips = env.BA_COUNT_D1 === "1" ? new D1Trips() : null;
    const db = delayed(env.DB, ms);
    const auth = betterAuth(options(env, trips === null ? db : trips.wrap(db)));
    const response = await auth.handler(request);
    return trips === null ? response : trips.stamp(response);
  },
};
