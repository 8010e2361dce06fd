// Load (autocannon, programmatic) and the D1 probe (sequential fetches against the counting Worker).
import autocannon from "autocannon";
import { json, request } from "./http.mjs";

/**
 * Runs autocannon against `url` for `seconds`, every request from `next()` (rotating users and
 * targets). A finite pool that runs dry stops the run early (reported as `exhausted`).
 */
export function load({ url, connections, seconds, next, authorization, headers: extra = {} }) {
  return new Promise((resolve, reject) => {
    let exhausted = false;
    let instance;
    const fallback = { method: "GET", path: "/healthz", headers: {} };
    const options = {
      url: url.origin,
      connections,
      duration: seconds,
      pipelining: 1,
      timeout: 30,
      requests: [
        {
          setupRequest(request) {
            const r = next();
            if (r === null) {
              // Keep the connections busy with a cheap request while the run stops; counted apart.
              if (!exhausted) {
                exhausted = true;
                setImmediate(() => instance.stop());
              }
              return { ...request, ...fallback };
            }
            return {
              ...request,
              method: r.method,
              path: r.path,
              headers: { ...r.headers, ...extra, ...auth(authorization, r.userId) },
              body: r.body ?? undefined,
            };
          },
        },
      ],
    };
    // What went wrong at the socket level (autocannon only counts it): the first few messages.
    const errorSamples = new Map();
    instance = autocannon(options, (error, result) => {
      if (error) reject(error);
      else resolve({ ...summarize(result), exhausted, errorSamples: Object.fromEntries(errorSamples) });
    });
    instance.on("reqError", (error) => {
      const key = `${error.code ?? error.name}: ${error.message}`;
      errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
    });
  });
}

/**
 * What a load run's socket-level failures say (BENCHMARKS.md "Socket errors under load"). A reset
 * of a kept-alive connection (ECONNRESET, EPIPE) is the local runtime's connection handling, not
 * the Worker: `node bench/sockets.mjs` shows the isolate neither restarts nor logs an error nor
 * grows beyond the baseline's heap under the same load, with keep-alive on and off. Those are
 * tolerated up to 0.5 % of the run's requests; a timeout or any other socket error fails the run
 * at the first occurrence, and every one is reported.
 */
export const RESET_TOLERANCE = 0.005;
export function socketVerdict(result) {
  const resets = Object.entries(result.errorSamples ?? {})
    .filter(([key]) => /^(ECONNRESET|EPIPE)\b/.test(key))
    .reduce((n, [, count]) => n + count, 0);
  const other = result.errors + result.timeouts - resets;
  const fail = other > 0 || resets > RESET_TOLERANCE * Math.max(result.requests, 1);
  return { resets, other, total: result.errors + result.timeouts, fail };
}

/** Roster's requests carry a bearer token; the peer's carry their session cookie in `headers`. */
function auth(authorization, userId) {
  return authorization ? { Authorization: authorization(userId) } : {};
}

function summarize(result) {
  return {
    rps: Math.round(result.requests.average * 10) / 10,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    requests: result.requests.total,
    duration_s: result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
  };
}

/**
 * Sends `count` requests one after another through the counting Worker and reads the D1 headers.
 * Every response must be 2xx and pass the endpoint's own check (e.g. "every address invited").
 */
export async function probe({ url, count, next, authorization, validate, headers: extra = {} }) {
  const trips = [];
  const statements = [];
  const writeTrips = [];
  const sqlMs = [];
  // Per statement position: its SQL and the times D1 reported, over the probe's requests.
  const statementsAt = [];
  const failures = [];
  // One checked response, kept for the report: what this side actually answered.
  let sample = null;
  for (let i = 0; i < count; i++) {
    const r = next();
    if (r === null) break;
    const response = await request(new URL(r.path, url), {
      method: r.method,
      headers: { ...r.headers, ...extra, ...auth(authorization, r.userId) },
      body: r.body,
    });
    const text = response.text;
    const body = json(text);
    if (response.status < 200 || response.status > 299) {
      failures.push(`${r.method} ${r.path} -> ${response.status} ${text.slice(0, 300)}`);
      continue;
    }
    const problem = validate?.(body) ?? null;
    if (problem !== null) failures.push(`${r.method} ${r.path} -> ${response.status}: ${problem}`);
    else sample ??= { request: `${r.method} ${r.path}`, status: response.status, body };
    const t = response.headers["x-d1-round-trips"];
    const s = response.headers["x-d1-statements"];
    const w = response.headers["x-d1-write-round-trips"];
    if (t !== undefined) trips.push(Number(t));
    if (s !== undefined) statements.push(Number(s));
    if (w !== undefined) writeTrips.push(Number(w));
    const q = response.headers["x-d1-sql-ms"];
    if (q !== undefined) sqlMs.push(Number(q));
    const logged = response.headers["x-d1-sql-log"];
    if (logged !== undefined) {
      JSON.parse(decodeURIComponent(logged)).forEach(([sql, ms], i) => {
        statementsAt[i] ??= { sql, samples: [] };
        if (statementsAt[i].sql === sql) statementsAt[i].samples.push(ms);
      });
    }
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    trips: spread(trips),
    statements: spread(statements),
    writeTrips: spread(writeTrips),
    // D1 reports whole milliseconds locally: the mean over the probe estimates the true time.
    sqlMsMean: sqlMs.length > 0 ? Math.round(mean(sqlMs) * 100) / 100 : null,
    sqlByStatement: statementsAt.map((s) => ({ sql: s.sql, ms: Math.round(mean(s.samples) * 100) / 100 })),
    sample,
    failures,
  };
}

function spread(values) {
  if (values.length === 0) return null;
  return { min: Math.min(...values), max: Math.max(...values) };
}
