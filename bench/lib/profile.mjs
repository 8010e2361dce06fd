// `--profile`: V8 CPU profiles of workerd's isolates (through Miniflare's inspector port) during a
// measured run, and the thread-level CPU split between workerd and the load generator. This is how
// a missed target is explained: which isolate is busy (the Worker's JS, or D1's object running
// SQLite) and which functions dominate.
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";

async function webSocket(url) {
  const WS = globalThis.WebSocket ?? (await import("ws")).default;
  const socket = new WS(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let id = 0;
  const pending = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data));
    const waiter = pending.get(message.id);
    if (waiter) {
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    }
  });
  return {
    send(method, params = {}) {
      const n = ++id;
      socket.send(JSON.stringify({ id: n, method, params }));
      return new Promise((resolve, reject) => pending.set(n, { resolve, reject }));
    },
    close: () => socket.close(),
  };
}

/** Inspector targets whose id matches `pattern` (e.g. the roster Worker and D1's object). */
export async function inspectorTargets(mf, pattern) {
  const base = await mf.getInspectorURL();
  const list = await (await fetch(new URL("/json", base.href.replace(/^ws/, "http")))).json();
  return list.filter((t) => pattern.test(t.id));
}

/**
 * The V8 heap in use by one isolate after a full garbage collection (MB): what a request leaves
 * behind, without the garbage V8 has not collected yet.
 */
export async function heapAfterGc(target) {
  const session = await webSocket(target.webSocketDebuggerUrl);
  try {
    // workerd runs the collection but never answers this command: not awaited. The inspector
    // handles commands in order, so the heap usage read next is the one after the collection.
    void session.send("HeapProfiler.collectGarbage");
    const { usedSize, totalSize } = await session.send("Runtime.getHeapUsage");
    return {
      used_mb: Math.round((usedSize / 2 ** 20) * 10) / 10,
      total_mb: Math.round((totalSize / 2 ** 20) * 10) / 10,
    };
  } finally {
    session.close();
  }
}

/** Starts sampling each target; `stop()` returns one profile per target. */
export async function startProfiles(targets) {
  const sessions = [];
  for (const target of targets) {
    const session = await webSocket(target.webSocketDebuggerUrl);
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 200 });
    await session.send("Profiler.start");
    sessions.push({ target, session });
  }
  return async function stop() {
    const out = [];
    for (const { target, session } of sessions) {
      const { profile } = await session.send("Profiler.stop");
      session.close();
      out.push({ target: target.id, profile });
    }
    return out;
  };
}

/**
 * Sampled time per function, heaviest first: `self` (in the function itself) and `inclusive` (in
 * it or anything it called — e.g. how much of the isolate's time is under `createInvites`).
 * Shares are of the isolate's non-idle samples. workerd runs every isolate on one thread, so
 * compare functions within one isolate, not isolates with each other.
 */
export function summarizeProfile(profile, top = 20) {
  const interval =
    profile.samples.length > 0 ? (profile.endTime - profile.startTime) / profile.samples.length / 1000 : 0;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  let idle = 0;
  const label = (f) => {
    const file = f.url ? f.url.split("/").pop() : "";
    return `${f.functionName || "(anonymous)"}${f.url ? ` ${file}:${f.lineNumber + 1}` : ""}`;
  };
  for (const node of profile.nodes) {
    const ms = (node.hitCount ?? 0) * interval;
    if (ms === 0) continue;
    total += ms;
    if (node.callFrame.functionName === "(idle)") {
      idle += ms;
      continue;
    }
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + ms);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const key = label(byId.get(id).callFrame);
      if (key === "(root)" || seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
    }
  }
  const busy = total - idle;
  const rank = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, ms]) => ({ frame, ms: Math.round(ms), share: busy > 0 ? Math.round((ms / busy) * 1000) / 10 : 0 }));
  return { total_ms: Math.round(total), busy_ms: Math.round(busy), self: rank(self), inclusive: rank(inclusive) };
}

export async function saveProfile(file, profile) {
  await writeFile(file, JSON.stringify(profile));
}

/** CPU time (ms) of every thread of the workerd child processes, and of this Node process. */
export function cpuSnapshot() {
  const threads = {};
  for (const pid of workerdPids()) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
        threads[`workerd/${comm}#${tid}`] = (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        // thread ended
      }
    }
  }
  const self = process.cpuUsage();
  return { at: Date.now(), node: (self.user + self.system) / 1000, threads };
}

export function cpuDelta(before, after) {
  const wall = after.at - before.at;
  const threads = {};
  let workerd = 0;
  for (const [name, ms] of Object.entries(after.threads)) {
    const d = ms - (before.threads[name] ?? 0);
    workerd += d;
    if (d >= 0.02 * wall) threads[name] = d;
  }
  return {
    wall_ms: wall,
    node_ms: Math.round(after.node - before.node),
    workerd_ms: workerd,
    workerd_threads: threads,
  };
}

export function workerdPids() {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (comm === "workerd" && ppid === process.pid) pids.push(entry);
    } catch {
      // process ended
    }
  }
  return pids;
}
