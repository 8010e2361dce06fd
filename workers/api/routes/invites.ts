import { z } from "zod";
import { queueClerkRevocation } from "../../core/clerk-invitations";
import { withClerkUserRefresh } from "../../core/clerk-users";
import { emailSchema } from "../../core/email";
import { acceptInvite } from "../../core/invites/accept";
import { createInvites, MAX_EMAILS_PER_REQUEST } from "../../core/invites/create";
import { declineInvite } from "../../core/invites/decline";
import { listInvites } from "../../core/invites/list";
import { previewInvite } from "../../core/invites/preview";
import { resendInvite } from "../../core/invites/resend";
import { revokeInvite } from "../../core/invites/revoke";
import { pageQuerySchema } from "../../core/pagination";
import { tokenWindow } from "../../core/rate-limit";
import { DEFAULT_ORG_ROLE, DEFAULT_PROJECT_ROLE } from "../../core/roles";
import { defineRoute, json, noContent } from "../route";
import { idSchema, orgRoleSchema, pageOf, projectRoleSchema } from "../schemas";
import { acceptedSchema, createResultSchema, inviteSchema, inviteStatusSchema, previewSchema } from "./invite-schemas";

/**
 * Invites, both sides: the inviter's (create, list, resend, revoke) and the invitee's (preview,
 * accept by token or by id, decline). Each handler is one call into core/invites/<use case>.ts.
 * The banner feed of received invites is `GET /v1/me/invites`, in me.ts.
 */
// Any invalid address fails the whole request (zod rejects the array), so nothing is created.
const emailsSchema = z.array(emailSchema).min(1).max(MAX_EMAILS_PER_REQUEST);

const orgParams = z.object({ orgId: idSchema });
const projectParams = z.object({ projectId: idSchema });
const inviteParams = z.object({ inviteId: idSchema });
const listQuery = pageQuerySchema.extend({ status: inviteStatusSchema.default("pending") });

// Bounded, printable; anything that is not an issued token is simply not found.
const tokenBody = z.strictObject({
  token: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[\x21-\x7e]+$/, "Invalid token"),
});
const ACCEPT_ERRORS = [
  "INVITE_NOT_FOUND",
  "INVITE_EXPIRED",
  "INVITE_REVOKED",
  "INVITE_DECLINED",
  "INVITE_ALREADY_ACCEPTED",
  "INVITE_EMAIL_MISMATCH",
  "EMAIL_NOT_VERIFIED",
  "SEAT_LIMIT_REACHED",
  "FORBIDDEN",
] as const;

const CREATE_ERRORS = ["NOT_FOUND", "FORBIDDEN", "ROLE_ABOVE_OWN", "RATE_LIMITED"] as const;

export const inviteRoutes = [
  defineRoute({
    method: "post",
    path: "/v1/organizations/:orgId/invites",
    summary: "Invite addresses to an organization",
    tag: "Invites",
    auth: true,
    params: orgParams,
    body: z.strictObject({ emails: emailsSchema, role: orgRoleSchema.default(DEFAULT_ORG_ROLE) }),
    responses: {
      201: { description: "One result per distinct address, in request order.", schema: createResultSchema },
    },
    errors: [...CREATE_ERRORS],
    handler: async ({ db, env, config, now, user, params, body }) => {
      const results = await createInvites(db, env.EMAIL_QUEUE, {
        scope: { kind: "organization", orgId: params.orgId },
        inviterId: user.id,
        emails: body.emails,
        role: body.role,
        projectRole: null,
        now,
        ttlDays: config.INVITE_TTL_DAYS,
        ratePerHour: config.RATE_LIMIT_INVITES_PER_HOUR,
      });
      return json(201, { results });
    },
  }),
  defineRoute({
    method: "post",
    path: "/v1/projects/:projectId/invites",
    summary: "Invite addresses to a project (and its organization when needed)",
    tag: "Invites",
    auth: true,
    params: projectParams,
    body: z.strictObject({
      emails: emailsSchema,
      role: projectRoleSchema.default(DEFAULT_PROJECT_ROLE),
      orgRole: orgRoleSchema.default(DEFAULT_ORG_ROLE).describe("applies when the invitee is not yet an org member"),
    }),
    responses: {
      201: { description: "One result per distinct address, in request order.", schema: createResultSchema },
    },
    errors: [...CREATE_ERRORS],
    handler: async ({ db, env, config, now, user, params, body }) => {
      const results = await createInvites(db, env.EMAIL_QUEUE, {
        scope: { kind: "project", projectId: params.projectId },
        inviterId: user.id,
        emails: body.emails,
        role: body.orgRole,
        projectRole: body.role,
        now,
        ttlDays: config.INVITE_TTL_DAYS,
        ratePerHour: config.RATE_LIMIT_INVITES_PER_HOUR,
      });
      return json(201, { results });
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/organizations/:orgId/invites",
    summary: "The organization's invites (organization and project invites), newest first",
    tag: "Invites",
    auth: true,
    params: orgParams,
    query: listQuery,
    responses: { 200: { description: "A page of invites.", schema: pageOf(inviteSchema) } },
    errors: ["NOT_FOUND", "FORBIDDEN"],
    handler: async ({ db, now, user, params, query }) =>
      json(
        200,
        await listInvites(db, {
          scope: { kind: "organization", orgId: params.orgId },
          userId: user.id,
          status: query.status,
          page: query,
          now,
        }),
      ),
  }),
  defineRoute({
    method: "get",
    path: "/v1/projects/:projectId/invites",
    summary: "The project's invites, newest first",
    tag: "Invites",
    auth: true,
    params: projectParams,
    query: listQuery,
    responses: { 200: { description: "A page of invites.", schema: pageOf(inviteSchema) } },
    errors: ["NOT_FOUND", "FORBIDDEN"],
    handler: async ({ db, now, user, params, query }) =>
      json(
        200,
        await listInvites(db, {
          scope: { kind: "project", projectId: params.projectId },
          userId: user.id,
          status: query.status,
          page: query,
          now,
        }),
      ),
  }),
  defineRoute({
    method: "post",
    path: "/v1/invites/:inviteId/resend",
    summary: "Resend an invite: new token (the old link stops working), new expiry, email queued",
    tag: "Invites",
    auth: true,
    params: inviteParams,
    responses: { 200: { description: "The invite, pending again.", schema: inviteSchema } },
    errors: [
      "INVITE_NOT_FOUND",
      "ROLE_ABOVE_OWN",
      "INVITE_ALREADY_ACCEPTED",
      "INVITE_ALREADY_PENDING",
      "INVITE_DECLINED",
      "INVITE_REVOKED",
      "RATE_LIMITED",
    ],
    handler: async ({ db, env, config, now, user, params }) => {
      const invite = await resendInvite(db, env.EMAIL_QUEUE, {
        inviteId: params.inviteId,
        userId: user.id,
        now,
        ttlDays: config.INVITE_TTL_DAYS,
        ratePerHour: config.RATE_LIMIT_INVITES_PER_HOUR,
      });
      // The new version gets a new Clerk invitation; the one Clerk holds for the old is revoked.
      await queueClerkRevocation(env.EMAIL_QUEUE, config, [{ kind: "invite", id: params.inviteId }]);
      return json(200, invite);
    },
  }),
  defineRoute({
    method: "delete",
    path: "/v1/invites/:inviteId",
    summary: "Revoke an invite (idempotent); only a caller who may grant its role",
    tag: "Invites",
    auth: true,
    params: inviteParams,
    responses: { 204: { description: "Revoked (or already revoked)." } },
    errors: ["INVITE_NOT_FOUND", "ROLE_ABOVE_OWN", "INVITE_ALREADY_ACCEPTED", "INVITE_DECLINED"],
    handler: async ({ db, env, config, now, user, params }) => {
      await revokeInvite(db, { inviteId: params.inviteId, userId: user.id, now });
      await queueClerkRevocation(env.EMAIL_QUEUE, config, [{ kind: "invite", id: params.inviteId }]);
      return noContent();
    },
  }),
  defineRoute({
    method: "post",
    path: "/v1/invites/preview",
    summary: "What an invite link offers, for the accept page (no sign-in needed)",
    tag: "Invitee",
    auth: false,
    body: tokenBody,
    responses: { 200: { description: "The invite, whatever its status.", schema: previewSchema } },
    errors: ["INVITE_NOT_FOUND", "RATE_LIMITED"],
    handler: async ({ db, request, config, now, body }) =>
      json(
        200,
        await previewInvite(db, {
          token: body.token,
          now,
          rate: tokenWindow(request, config.RATE_LIMIT_TOKEN_PER_MINUTE, now),
        }),
      ),
  }),
  defineRoute({
    method: "post",
    path: "/v1/invites/accept",
    summary: "Accept an invite by the token from its email link",
    tag: "Invitee",
    auth: true,
    waitlistAllowed: true,
    body: tokenBody,
    responses: { 200: { description: "The organization (and project) joined.", schema: acceptedSchema } },
    errors: [...ACCEPT_ERRORS, "RATE_LIMITED"],
    handler: async ({ db, request, config, now, user, body }) =>
      json(
        200,
        await acceptInvite(db, {
          key: { token: body.token },
          userId: user.id,
          now,
          rate: tokenWindow(request, config.RATE_LIMIT_TOKEN_PER_MINUTE, now),
          config,
        }),
      ),
  }),
  defineRoute({
    method: "post",
    path: "/v1/invites/:inviteId/accept",
    summary: "Accept an invite addressed to one of the caller's verified addresses (the banner path)",
    tag: "Invitee",
    auth: true,
    waitlistAllowed: true,
    params: inviteParams,
    responses: { 200: { description: "The organization (and project) joined.", schema: acceptedSchema } },
    errors: [...ACCEPT_ERRORS],
    handler: async ({ db, env, config, now, user, params }) => {
      const accepted = await withClerkUserRefresh(db, config, user.id, now, () =>
        acceptInvite(db, { key: { id: params.inviteId }, userId: user.id, now, config }),
      );
      await queueClerkRevocation(env.EMAIL_QUEUE, config, [{ kind: "invite", id: params.inviteId }]);
      return json(200, accepted);
    },
  }),
  defineRoute({
    method: "post",
    path: "/v1/invites/:inviteId/decline",
    summary: "Decline an invite addressed to one of the caller's verified addresses",
    tag: "Invitee",
    auth: true,
    waitlistAllowed: true,
    params: inviteParams,
    responses: { 204: { description: "Declined (or already declined)." } },
    errors: ["INVITE_NOT_FOUND", "INVITE_EXPIRED", "INVITE_REVOKED", "INVITE_ALREADY_ACCEPTED", "EMAIL_NOT_VERIFIED"],
    handler: async ({ db, env, config, now, user, params }) => {
      await withClerkUserRefresh(db, config, user.id, now, () =>
        declineInvite(db, { inviteId: params.inviteId, userId: user.id, now }),
      );
      await queueClerkRevocation(env.EMAIL_QUEUE, config, [{ kind: "invite", id: params.inviteId }]);
      return noContent();
    },
  }),
];
