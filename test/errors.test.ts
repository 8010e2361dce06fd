import { describe, expect, it, vi } from "vitest";
import { errorResponse } from "../workers/api/router";
import { ApiError } from "../workers/core/errors";
import { BASE, call, expectProblem, seedOrg, seedUser, uid } from "./helpers";

/** The error contract of API.md ("Errors" and "Conventions"), on the organization endpoints. */
describe("request bodies", () => {
  it("over 64 KiB is 413 PAYLOAD_TOO_LARGE", async () => {
    const user = await seedUser();
    const res = await call("POST", "/v1/organizations", {
      as: user.id,
      rawBody: JSON.stringify({ name: "x", padding: "y".repeat(70 * 1024) }),
      headers: { "Content-Type": "application/json" },
    });
    expectProblem(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it.each([["text/plain"], ["application/x-www-form-urlencoded"], ["multipart/form-data; boundary=x"]])(
    "a %s body to POST /v1/organizations is 415 UNSUPPORTED_MEDIA_TYPE",
    async (type) => {
      const user = await seedUser();
      const res = await call("POST", "/v1/organizations", {
        as: user.id,
        rawBody: JSON.stringify({ name: "x" }),
        headers: { "Content-Type": type },
      });
      expectProblem(res, 415, "UNSUPPORTED_MEDIA_TYPE");
    },
  );

  it("a body without a Content-Type is 415", async () => {
    const user = await seedUser();
    const res = await call("POST", "/v1/organizations", { as: user.id, rawBody: JSON.stringify({ name: "x" }) });
    expectProblem(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("application/json with a charset is accepted", async () => {
    const user = await seedUser();
    const res = await call("POST", "/v1/organizations", {
      as: user.id,
      rawBody: JSON.stringify({ name: "Charset" }),
      headers: { "Content-Type": "application/json; charset=utf-8" },
    });
    expect(res.status).toBe(201);
  });

  it.each([["{"], ['{"name": "x",}'], ["nul"], ["'x'"]])("malformed JSON %j is 400", async (raw) => {
    const user = await seedUser();
    const res = await call("POST", "/v1/organizations", {
      as: user.id,
      rawBody: raw,
      headers: { "Content-Type": "application/json" },
    });
    expectProblem(res, 400, "VALIDATION_FAILED");
  });

  it("an empty body where one is required is 400", async () => {
    const user = await seedUser();
    const res = await call("POST", "/v1/organizations", {
      as: user.id,
      rawBody: "",
      headers: { "Content-Type": "application/json" },
    });
    expectProblem(res, 400, "VALIDATION_FAILED");
  });

  it("unknown body fields are 400 with errors[] naming them", async () => {
    const user = await seedUser();
    const res = await call("POST", "/v1/organizations", { as: user.id, body: { name: "x", admin: true } });
    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(res.body.errors).toEqual([{ path: "", message: expect.stringContaining("admin") }]);
  });

  it.each([
    ["empty", ""],
    ["blank", "   "],
    ["101 characters", "x".repeat(101)],
    ["a line feed", "Acme\nInc"],
    ["a carriage return", "Acme\rInc"],
    ["a NUL", "Acme\u0000Inc"],
    ["a tab", "Acme\tInc"],
    ["a line separator", "Acme\u2028Inc"],
    ["not a string", 42],
  ])("a name that is %s is 400 with errors[] on name", async (_, name) => {
    const user = await seedUser();
    const res = await call("POST", "/v1/organizations", { as: user.id, body: { name } });
    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(res.body.errors).toEqual([{ path: "name", message: expect.any(String) }]);
    expect(res.body.detail).toEqual(expect.any(String));
  });

  it("a name of exactly 100 characters is accepted, trimmed", async () => {
    const user = await seedUser();
    const res = await call("POST", "/v1/organizations", { as: user.id, body: { name: ` ${"é".repeat(100)} ` } });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe("é".repeat(100));
  });
});

describe("endpoints that take no body", () => {
  it("DELETE accepts an empty body with any or no Content-Type", async () => {
    const variants: Record<string, string>[] = [
      {},
      { "Content-Type": "text/plain" },
      { "Content-Type": "application/json" },
    ];
    for (const headers of variants) {
      const owner = await seedUser();
      const org = await seedOrg(owner.id);
      const res = await call("DELETE", `/v1/organizations/${org.id}`, { as: owner.id, rawBody: "", headers });
      expect(res.status).toBe(204);
    }
  });

  it("DELETE with a non-empty, non-JSON body is 415", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const res = await call("DELETE", `/v1/organizations/${org.id}`, {
      as: owner.id,
      rawBody: "please",
      headers: { "Content-Type": "text/plain" },
    });
    expectProblem(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });
});

describe("problem+json", () => {
  it("every error is application/problem+json with type, title, status, code and the request id", async () => {
    const res = await call("GET", "/v1/organizations/org_missing", { as: uid() });
    expectProblem(res, 404, "NOT_FOUND");
    expect(res.body).toEqual({
      type: "urn:roster:problem:not-found",
      title: "Not found",
      status: 404,
      code: "NOT_FOUND",
      detail: expect.any(String),
      requestId: res.headers.get("X-Request-Id"),
    });
    expect(res.body).not.toHaveProperty("errors");
  });

  it("every route of organizations, members and projects is 401 without a token", async () => {
    const routes: [string, string][] = [
      ["POST", "/v1/organizations"],
      ["GET", "/v1/organizations"],
      ["GET", "/v1/organizations/org_x"],
      ["PATCH", "/v1/organizations/org_x"],
      ["DELETE", "/v1/organizations/org_x"],
      ["GET", "/v1/organizations/org_x/members"],
      ["PATCH", "/v1/organizations/org_x/members/user_x"],
      ["DELETE", "/v1/organizations/org_x/members/user_x"],
      ["POST", "/v1/organizations/org_x/projects"],
      ["GET", "/v1/organizations/org_x/projects"],
      ["GET", "/v1/projects/prj_x"],
      ["GET", "/v1/projects/prj_x/members"],
      ["PATCH", "/v1/projects/prj_x/members/user_x"],
      ["DELETE", "/v1/projects/prj_x/members/user_x"],
    ];
    for (const [method, path] of routes) {
      const res = await call(method, path, { body: method === "POST" || method === "PATCH" ? {} : undefined });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
      expectProblem(res, 401, "UNAUTHENTICATED");
    }
  });

  it("a crash is a 500 problem with the request id and no message or stack", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const error = new Error("secret detail: database password is hunter2");
    const response = errorResponse(error, "req-123", new Request(`${BASE}/v1/organizations`));
    // The detail and stack go to the log only, under the same request id.
    expect(log).toHaveBeenCalledWith(expect.stringContaining('"requestId":"req-123"'));
    expect(String(log.mock.calls[0]?.[0])).toContain("hunter2");
    log.mockRestore();
    expect(response.status).toBe(500);
    expect(response.headers.get("Content-Type")).toContain("application/problem+json");
    const text = await response.text();
    expect(text).not.toMatch(/^\s*at /m);
    expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(text).not.toContain("hunter2");
    expect(JSON.parse(text)).toMatchObject({ status: 500, code: "INTERNAL", requestId: "req-123" });
  });

  it("a thrown non-Error value is a 500 too", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = errorResponse({ weird: true }, "req-456", new Request(`${BASE}/x`));
    log.mockRestore();
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ code: "INTERNAL", requestId: "req-456" });
  });

  it("an ApiError keeps its own status and code", async () => {
    const response = errorResponse(new ApiError("LAST_OWNER", "no"), "req-789", new Request(`${BASE}/x`));
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: "LAST_OWNER", detail: "no", requestId: "req-789" });
  });
});

describe("/openapi.json", () => {
  it("documents the organization, member and project routes with their bodies and error codes", async () => {
    const doc = (await call("GET", "/openapi.json")).body;
    const member = doc.paths["/v1/organizations/{orgId}/members/{userId}"];
    expect(Object.keys(member).sort()).toEqual(["delete", "patch"]);
    expect(member.patch.responses["409"].description).toContain("LAST_OWNER");
    expect(member.patch.responses["403"].description).toContain("ROLE_ABOVE_OWN");
    const create = doc.paths["/v1/organizations"].post;
    expect(create.responses["201"]).toBeDefined();
    expect(create.responses["409"].description).toContain("SLUG_TAKEN");
    expect(JSON.stringify(create.requestBody)).toContain("slug");
    for (const path of [
      "/v1/organizations/{orgId}",
      "/v1/organizations/{orgId}/members",
      "/v1/organizations/{orgId}/projects",
      "/v1/projects/{projectId}",
      "/v1/projects/{projectId}/members",
      "/v1/projects/{projectId}/members/{userId}",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const list = doc.paths["/v1/organizations"].get;
    expect(list.parameters.map((p: { name: string }) => p.name).sort()).toEqual(["cursor", "limit"]);
  });
});
