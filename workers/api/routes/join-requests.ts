import { z } from "zod";
import { createJoinRequest } from "../../core/join-requests/create";
import { decideJoinRequest, withdrawJoinRequest } from "../../core/join-requests/decide";
import { listJoinRequests, listMyJoinRequests } from "../../core/join-requests/list";
import { listSuggestions } from "../../core/join-requests/suggestions";
import { JOIN_REQUEST_STATUSES } from "../../core/join-requests/views";
import { pageQuerySchema } from "../../core/pagination";
import { DEFAULT_ORG_ROLE } from "../../core/roles";
import { defineRoute, json, noContent } from "../route";
import { idSchema, orgRoleSchema, pageOf, timestamp } from "../schemas";

/** Join requests (create, list, approve, deny, withdraw) and the caller's suggestions. */
const statusSchema = z.enum(JOIN_REQUEST_STATUSES);

export const joinRequestSchema = z.object({
  id: z.string().describe("jrq_…"),
  organization: z.object({ id: z.string(), name: z.string() }),
  user: z.object({ userId: z.string(), email: z.string().nullable(), name: z.string().nullable() }),
  status: statusSchema,
  role: orgRoleSchema.nullable().describe("granted on approval"),
  message: z.string().nullable(),
  createdAt: timestamp,
  decidedAt: timestamp.nullable(),
  decidedBy: z.string().nullable().describe("null for an automatic approval"),
});

const suggestionSchema = z.object({
  organization: z.object({ id: z.string(), name: z.string() }),
  domain: z.string(),
  enrollment: z.enum(["request", "auto"]),
});

/** A message to the admins: at most 500 characters, no control characters (line breaks allowed). */
const messageSchema = z
  .string()
  .max(500, "Messages are at most 500 characters")
  .refine((s) => !/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f]/u.test(s), "No control characters")
  .transform((s) => s.trim().normalize("NFC"))
  .transform((s) => (s === "" ? null : s));

const orgParams = z.strictObject({ orgId: idSchema });
const requestParams = z.strictObject({ requestId: idSchema });
const DECIDE_ERRORS = ["NOT_FOUND", "ROLE_ABOVE_OWN", "SEAT_LIMIT_REACHED", "CONFLICT"] as const;

export const joinRequestRoutes = [
  defineRoute({
    method: "get",
    path: "/v1/me/suggestions",
    summary: "Organizations of the caller's verified email domains they may ask to join (or join)",
    tag: "Me",
    auth: true,
    responses: { 200: { description: "The suggestions.", schema: z.object({ data: z.array(suggestionSchema) }) } },
    handler: async ({ db, user }) => json(200, { data: await listSuggestions(db, { userId: user.id }) }),
  }),
  defineRoute({
    method: "get",
    path: "/v1/me/join-requests",
    summary: "The caller's join requests, every status, newest first",
    tag: "Me",
    auth: true,
    query: pageQuerySchema,
    responses: { 200: { description: "A page of join requests.", schema: pageOf(joinRequestSchema) } },
    handler: async ({ db, user, query }) => json(200, await listMyJoinRequests(db, { userId: user.id, page: query })),
  }),
  defineRoute({
    method: "post",
    path: "/v1/organizations/:orgId/join-requests",
    summary: "Ask to join an organization suggested by one's email domain (auto enrollment: join at once)",
    tag: "Domains and join requests",
    auth: true,
    params: orgParams,
    body: z.strictObject({ message: messageSchema.optional() }),
    responses: {
      201: { description: "The request: pending, or approved at once (enrollment auto).", schema: joinRequestSchema },
      200: { description: "The caller's pending request there, unchanged.", schema: joinRequestSchema },
    },
    errors: ["NOT_FOUND", "ALREADY_MEMBER", "SEAT_LIMIT_REACHED", "CONFLICT"],
    handler: async ({ db, user, params, body, now }) => {
      const { request, created } = await createJoinRequest(db, {
        orgId: params.orgId,
        userId: user.id,
        message: body.message ?? null,
        now,
      });
      return json(created ? 201 : 200, request);
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/organizations/:orgId/join-requests",
    summary: "The organization's join requests with a status (default pending)",
    tag: "Domains and join requests",
    auth: true,
    params: orgParams,
    query: pageQuerySchema.extend({ status: statusSchema.default("pending") }),
    responses: { 200: { description: "A page of join requests, newest first.", schema: pageOf(joinRequestSchema) } },
    errors: ["NOT_FOUND", "FORBIDDEN"],
    handler: async ({ db, user, params, query }) => {
      const { status, ...page } = query;
      return json(200, await listJoinRequests(db, { orgId: params.orgId, userId: user.id, status, page }));
    },
  }),
  defineRoute({
    method: "post",
    path: "/v1/join-requests/:requestId/approve",
    summary: "Approve a join request with a role (the requester becomes a member)",
    tag: "Domains and join requests",
    auth: true,
    params: requestParams,
    body: z.strictObject({ role: orgRoleSchema.default(DEFAULT_ORG_ROLE) }),
    responses: { 200: { description: "The request, approved.", schema: joinRequestSchema } },
    errors: [...DECIDE_ERRORS],
    handler: async ({ db, user, params, body, now }) =>
      json(
        200,
        await decideJoinRequest(db, {
          requestId: params.requestId,
          userId: user.id,
          decision: "approved",
          role: body.role,
          now,
        }),
      ),
  }),
  defineRoute({
    method: "post",
    path: "/v1/join-requests/:requestId/deny",
    summary: "Deny a join request",
    tag: "Domains and join requests",
    auth: true,
    params: requestParams,
    responses: { 200: { description: "The request, denied.", schema: joinRequestSchema } },
    errors: ["NOT_FOUND", "CONFLICT"],
    handler: async ({ db, user, params, now }) =>
      json(
        200,
        await decideJoinRequest(db, {
          requestId: params.requestId,
          userId: user.id,
          decision: "denied",
          role: DEFAULT_ORG_ROLE,
          now,
        }),
      ),
  }),
  defineRoute({
    method: "delete",
    path: "/v1/join-requests/:requestId",
    summary: "Withdraw one's own pending join request",
    tag: "Domains and join requests",
    auth: true,
    params: requestParams,
    responses: { 204: { description: "Withdrawn (also when it already was)." } },
    errors: ["NOT_FOUND", "CONFLICT"],
    handler: async ({ db, user, params, now }) => {
      await withdrawJoinRequest(db, { requestId: params.requestId, userId: user.id, now });
      return noContent();
    },
  }),
];
