import { describe, expect, it } from "vitest";
import { call, expectProblem } from "./helpers";

/** The routes of existing accounts (consent-pending adds, domains, join requests) as a client sees them. */
const ROUTES: [string, string, string][] = [
  ["POST", "/v1/organizations/org_x/members", "/v1/organizations/{orgId}/members"],
  ["POST", "/v1/organizations/org_x/domains", "/v1/organizations/{orgId}/domains"],
  ["GET", "/v1/organizations/org_x/domains", "/v1/organizations/{orgId}/domains"],
  ["PATCH", "/v1/organizations/org_x/domains/acme.com", "/v1/organizations/{orgId}/domains/{domain}"],
  ["DELETE", "/v1/organizations/org_x/domains/acme.com", "/v1/organizations/{orgId}/domains/{domain}"],
  ["POST", "/v1/organizations/org_x/join-requests", "/v1/organizations/{orgId}/join-requests"],
  ["GET", "/v1/organizations/org_x/join-requests", "/v1/organizations/{orgId}/join-requests"],
  ["POST", "/v1/join-requests/jrq_x/approve", "/v1/join-requests/{requestId}/approve"],
  ["POST", "/v1/join-requests/jrq_x/deny", "/v1/join-requests/{requestId}/deny"],
  ["DELETE", "/v1/join-requests/jrq_x", "/v1/join-requests/{requestId}"],
  ["GET", "/v1/me/suggestions", "/v1/me/suggestions"],
  ["GET", "/v1/me/join-requests", "/v1/me/join-requests"],
];

describe("existing accounts' routes", () => {
  it("are 401 without a token", async () => {
    for (const [method, path] of ROUTES) {
      const res = await call(method, path, { body: method === "POST" || method === "PATCH" ? {} : undefined });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
      expectProblem(res, 401, "UNAUTHENTICATED");
    }
  });

  it("are in /openapi.json with their error codes, and Invite / ReceivedInvite carry `source`", async () => {
    const doc = (await call("GET", "/openapi.json")).body;
    for (const [method, , path] of ROUTES) {
      expect(doc.paths[path]?.[method.toLowerCase()], `${method} ${path}`).toBeDefined();
    }
    const claim = doc.paths["/v1/organizations/{orgId}/domains"].post;
    expect(claim.responses["400"].description).toContain("DOMAIN_NOT_ALLOWED");
    expect(claim.responses["403"].description).toContain("DOMAIN_NOT_VERIFIED");
    const add = doc.paths["/v1/organizations/{orgId}/members"].post;
    expect(add.responses["409"].description).toContain("NO_VERIFIED_EMAIL");
    expect(JSON.stringify(add.responses["201"])).toContain("owner_add");
    expect(JSON.stringify(doc.paths["/v1/me/invites"].get.responses["200"])).toContain("owner_add");
  });
});
