import { z } from "zod";
import { queueClerkRevocation } from "../../core/clerk-invitations";
import { withClerkUserRefresh } from "../../core/clerk-users";
import { acceptInvite, declineInvite, previewInvite, receivedInvites } from "../../core/invites";
import { tokenWindow } from "../../core/rate-limit";
import { defineRoute, json, noContent } from "../route";
import { idSchema, organizationSchema, orgRoleSchema, projectRoleSchema, projectSchema, timestamp } from "../schemas";
import { inviteStatusSchema } from "./invites";

/** The invitee's side of invitations: preview, accept (by token or by id), decline, the banner feed. */
const receivedInviteSchema = z.object({
  id: z.string(),
  kind: z.enum(["organization", "project"]),
  organization: z.object({ id: z.string(), name: z.string() }),
  project: z.object({ id: z.string(), name: z.string() }).nullable(),
  role: orgRoleSchema,
  projectRole: projectRoleSchema.nullable(),
  invitedBy: z.object({ name: z.string().nullable() }),
  expiresAt: timestamp,
});

const previewSchema = z.object({
  organization: z.object({ name: z.string() }),
  project: z.object({ name: z.string() }).nullable(),
  role: orgRoleSchema,
  projectRole: projectRoleSchema.nullable(),
  invitedBy: z.object({ name: z.string().nullable() }),
  emailHint: z.string().describe('e.g. "j•••@example.com"'),
  expiresAt: timestamp,
  status: inviteStatusSchema,
});

const acceptedSchema = z.object({ organization: organizationSchema, project: projectSchema.nullable() });

// Bounded, printable; anything that is not an issued token is simply not found.
const tokenBody = z.strictObject({
  token: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[\x21-\x7e]+$/, "Invalid token"),
});
const inviteParams = z.object({ inviteId: idSchema });

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

export const inviteeRoutes = [
  defineRoute({
    method: "get",
    path: "/v1/me/invites",
    summary: "Pending invites addressed to any verified address of the caller (the sign-in banner)",
    tag: "Me",
    auth: true,
    responses: {
      200: { description: "The caller's pending invites.", schema: z.object({ data: z.array(receivedInviteSchema) }) },
    },
    handler: async ({ db, now, user }) => json(200, { data: await receivedInvites(db, { userId: user.id, now }) }),
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
        }),
      ),
  }),
  defineRoute({
    method: "post",
    path: "/v1/invites/:inviteId/accept",
    summary: "Accept an invite addressed to one of the caller's verified addresses (the banner path)",
    tag: "Invitee",
    auth: true,
    params: inviteParams,
    responses: { 200: { description: "The organization (and project) joined.", schema: acceptedSchema } },
    errors: [...ACCEPT_ERRORS],
    handler: async ({ db, env, config, now, user, params }) => {
      const accepted = await withClerkUserRefresh(db, config, user.id, now, () =>
        acceptInvite(db, { key: { id: params.inviteId }, userId: user.id, now }),
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
