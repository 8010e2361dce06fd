import { z } from "zod";
import { queueClerkRevocation } from "../../core/clerk-invitations";
import { emailSchema } from "../../core/email";
import { INVITE_STATUSES } from "../../core/invite-views";
import { createInvites, listInvites, MAX_EMAILS_PER_REQUEST, resendInvite, revokeInvite } from "../../core/invites";
import { pageQuerySchema } from "../../core/pagination";
import { DEFAULT_ORG_ROLE, DEFAULT_PROJECT_ROLE } from "../../core/roles";
import { defineRoute, json, noContent } from "../route";
import { idSchema, orgRoleSchema, pageOf, projectRoleSchema, timestamp } from "../schemas";

/** The inviter's side of invitations: create, list, resend, revoke. */
export const inviteStatusSchema = z.enum(INVITE_STATUSES);

export const inviteSchema = z.object({
  id: z.string(),
  kind: z.enum(["organization", "project"]),
  organizationId: z.string(),
  projectId: z.string().nullable(),
  email: z.string(),
  role: orgRoleSchema,
  projectRole: projectRoleSchema.nullable(),
  status: inviteStatusSchema,
  invitedBy: z.object({
    userId: z.string().nullable().describe("null once the inviting user has been deleted"),
    name: z.string().nullable(),
  }),
  createdAt: timestamp,
  expiresAt: timestamp,
  acceptedAt: timestamp.nullable(),
  delivery: z.object({
    status: z.enum(["queued", "sent", "failed"]),
    attempts: z.number().int().describe("send attempts made"),
    lastError: z.string().nullable(),
    sentAt: timestamp.nullable(),
  }),
});

const createResultSchema = z.object({
  results: z.array(
    z.object({
      email: z.string(),
      outcome: z.enum(["invited", "already_invited", "already_member"]),
      invite: inviteSchema.nullable(),
    }),
  ),
});

// Any invalid address fails the whole request (zod rejects the array), so nothing is created.
const emailsSchema = z.array(emailSchema).min(1).max(MAX_EMAILS_PER_REQUEST);

const orgParams = z.object({ orgId: idSchema });
const projectParams = z.object({ projectId: idSchema });
const inviteParams = z.object({ inviteId: idSchema });
const listQuery = pageQuerySchema.extend({ status: inviteStatusSchema.default("pending") });

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
    summary: "Revoke an invite (idempotent)",
    tag: "Invites",
    auth: true,
    params: inviteParams,
    responses: { 204: { description: "Revoked (or already revoked)." } },
    errors: ["INVITE_NOT_FOUND", "INVITE_ALREADY_ACCEPTED", "INVITE_DECLINED"],
    handler: async ({ db, env, config, now, user, params }) => {
      await revokeInvite(db, { inviteId: params.inviteId, userId: user.id, now });
      await queueClerkRevocation(env.EMAIL_QUEUE, config, [{ kind: "invite", id: params.inviteId }]);
      return noContent();
    },
  }),
];
