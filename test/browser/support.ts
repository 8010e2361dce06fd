import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { importPKCS8, SignJWT } from "jose";
import { type Browser, chromium, type Page } from "playwright-core";
import { Webhook } from "svix";
import { expect, inject } from "vitest";

/**
 * Helpers for the browser suite: everything goes through the real Worker under `wrangler dev`
 * (users by Svix-signed Clerk webhooks, session tokens signed like Clerk's, organizations and
 * invites through the API). Raw invite tokens are read where a developer reads them: the console
 * email provider's output in wrangler's log.
 */
export const API = inject("apiUrl");
const ROOT = new URL("../..", import.meta.url).pathname;
const SCREENSHOTS = join(ROOT, "screenshots");
const run = promisify(execFile);

export function uid(prefix = "user_browser"): string {
  return `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

let key: CryptoKey | null = null;

/** A session token shaped like Clerk's, signed with the private half of CLERK_JWT_KEY. */
export async function sessionToken(userId: string, expiresIn = 600): Promise<string> {
  key ??= await importPKCS8(inject("privateKey"), "RS256");
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ sid: `sess_${userId}` })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "ins_browser" })
    .setSubject(userId)
    .setIssuer("https://clerk.roster.test")
    .setIssuedAt(now - 5)
    .setNotBefore(now - 5)
    .setExpirationTime(now + expiresIn)
    .sign(key);
}

export interface ApiResult {
  status: number;
  body: any;
}

export async function api(
  method: string,
  path: string,
  options: { as?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.as) headers.Authorization = `Bearer ${await sessionToken(options.as)}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${API}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : JSON.parse(text) };
}

export interface TestUser {
  id: string;
  email: string;
  name: string;
}

/** A user, created the way Clerk creates one: a Svix-signed `user.created` webhook. */
export async function createUser(
  name: string,
  options: { verified?: boolean; id?: string; email?: string; domain?: string } = {},
): Promise<TestUser> {
  const id = options.id ?? uid();
  const email =
    options.email ?? `${name.toLowerCase().replaceAll(" ", ".")}.${id.slice(-8)}@${options.domain ?? "example.com"}`;
  const [first, ...rest] = name.split(" ");
  const now = Date.now();
  const payload = JSON.stringify({
    object: "event",
    type: "user.created",
    data: {
      id,
      object: "user",
      email_addresses: [
        {
          id: `idn_${id}`,
          object: "email_address",
          email_address: email,
          verification: { status: options.verified === false ? "unverified" : "verified", strategy: "email_code" },
          linked_to: [],
        },
      ],
      primary_email_address_id: `idn_${id}`,
      first_name: first,
      last_name: rest.join(" ") || null,
      username: null,
      created_at: now,
      updated_at: now,
    },
  });
  const msgId = `msg_${randomUUID()}`;
  const timestamp = new Date();
  const signature = new Webhook(inject("webhookSecret")).sign(msgId, timestamp, payload);
  const res = await fetch(`${API}/webhooks/clerk`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "svix-id": msgId,
      "svix-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "svix-signature": signature,
    },
    body: payload,
  });
  expect(res.status, await res.text()).toBe(200);
  return { id, email, name };
}

export async function createOrg(owner: TestUser, name: string): Promise<{ id: string; name: string }> {
  const res = await api("POST", "/v1/organizations", { as: owner.id, body: { name } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, name };
}

export async function createProject(
  owner: TestUser,
  orgId: string,
  name: string,
): Promise<{ id: string; name: string }> {
  const res = await api("POST", `/v1/organizations/${orgId}/projects`, { as: owner.id, body: { name } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, name };
}

/** Invites one address through the API; returns the inviter's view of the invite. */
export async function invite(
  inviter: TestUser,
  target: { orgId: string } | { projectId: string },
  email: string,
  role?: string,
): Promise<{ id: string; expiresAt: string }> {
  const path =
    "orgId" in target ? `/v1/organizations/${target.orgId}/invites` : `/v1/projects/${target.projectId}/invites`;
  const res = await api("POST", path, { as: inviter.id, body: { emails: [email], ...(role ? { role } : {}) } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.results[0].outcome).toBe("invited");
  return res.body.results[0].invite;
}

const seen = new Map<string, string>();

/**
 * The raw token of the invite to `orgName`, from the invite email the console provider printed.
 * Tokens are told apart with POST /v1/invites/preview (it names the organization), so this does not
 * depend on how the provider formats the message.
 */
export async function inviteToken(orgName: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = readFileSync(inject("logFile"), "utf8");
    for (const match of log.matchAll(/#token=([A-Za-z0-9_-]{43})/g)) {
      const token = match[1] as string;
      if (!seen.has(token)) {
        const res = await api("POST", "/v1/invites/preview", { body: { token } });
        if (res.status === 200) seen.set(token, res.body.organization.name);
      }
      if (seen.get(token) === orgName) return token;
    }
    if (Date.now() > deadline) {
      const tail = log.split("\n").slice(-30).join("\n");
      throw new Error(
        `no invite email for ${orgName} in the Worker's log after ${timeoutMs} ms (${seen.size} other invite links seen)\n${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** SQL against the Worker's local D1, as an operator would run it (`wrangler d1 execute --local`). */
export async function sql(command: string): Promise<void> {
  await run(
    join(ROOT, "node_modules", ".bin", "wrangler"),
    ["d1", "execute", "DB", "--local", "--persist-to", inject("persistDir"), "--command", command],
    { cwd: ROOT, env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" } },
  );
}

export async function launchBrowser(): Promise<Browser> {
  return await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Every URL the page requests and every console error, to assert on afterwards. */
export function watch(page: Page): { urls: string[]; errors: string[] } {
  const seenBy = { urls: [] as string[], errors: [] as string[] };
  page.on("request", (request) => seenBy.urls.push(request.url()));
  page.on("console", (message) => {
    // With the URL: Chromium's "Failed to load resource" message does not name what failed.
    if (message.type() === "error") seenBy.errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => seenBy.errors.push(error.message));
  return seenBy;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Signs in on a page's DEVELOPMENT sign-in box, as a developer pastes a `npm run dev:user` token. */
export async function devSignIn(page: Page, user: TestUser): Promise<void> {
  await page.getByLabel("Session token").fill(await sessionToken(user.id));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.getByText(`Signed in as ${user.email} with a development token.`).count()).toBe(1);
}

/**
 * A product's web server on `origin` (a loopback port), serving `html()` at every path. A real
 * server rather than a Playwright route: Chromium lets only a page it fetched from a loopback
 * address call another loopback address (Local Network Access).
 */
export async function serveProductPage(origin: string, html: () => string): Promise<{ close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    res.end(html());
  });
  const { hostname, port } = new URL(origin);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(port), hostname, resolve);
  });
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
