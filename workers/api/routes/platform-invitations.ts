import { z } from "zod";
import { emailSchema } from "../../core/email";
import { pageQuerySchema } from "../../core/pagination";
import { acceptPlatformInvitation } from "../../core/platform/accept";
import { createPlatformInvitations } from "../../core/platform/create";
import type { PlatformQueue } from "../../core/platform/enqueue";
import { listPlatformInvitations } from "../../core/platform/list";
import { resendPlatformInvitation, revokePlatformInvitation } from "../../core/platform/manage";
import { previewPlatformInvitation } from "../../core/platform/preview";
import { listReferrals } from "../../core/platform/referrals";
import { tokenWindow } from "../../core/rate-limit";
import { defineRoute, json, noContent } from "../route";
import { idSchema, pageOf, timestamp } from "../schemas";

const statusSchema = z.enum(["pending", "accepted", "revoked", "expired"]);

export const platformInvitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  status: statusSchema,
  source: z.enum(["operator", "referral"]),
  invitedBy: z.object({ userId: z.string().nullable(), name: z.string().nullable() }),
  createdAt: timestamp,
  expiresAt: timestamp,
  acceptedAt: timestamp.nullable(),
  acceptedBy: z.string().nullable(),
  delivery: z.object({
    status: z.enum(["queued", "sent", "failed"]),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    sentAt: timestamp.nullable(),
  }),
});

// Bounded, printable; anything that is not an issued token is simply not found.
const tokenBody = z.strictObject({
  token: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[\x21-\x7e]+$/, "Invalid token"),
});

const invitationParams = z.strictObject({ invitationId: idSchema });

export const platformInvitationRoutes = [
  defineRoute({
    method: "post",
    path: "/v1/platform/invitations",
    summary: "Invite people to the product (operators, or active users within their quota)",
    tag: "Platform invitations",
    auth: true,
    // Any invalid address fails the whole request (zod rejects the array); duplicates collapse.
    body: z.strictObject({ emails: z.array(emailSchema).min(1).max(50) }),
    responses: {
      201: {
        description: "One result per distinct address, in request order.",
        schema: z.object({
          results: z.array(
            z.object({
              email: z.string(),
              outcome: z.enum(["invited", "already_invited", "already_user"]),
              invitation: platformInvitationSchema.nullable(),
            }),
          ),
        }),
      },
    },
    errors: ["FORBIDDEN", "INVITE_QUOTA_EXCEEDED", "NOT_ADMITTED"],
    handler: async ({ db, env, config, user, body, now }) =>
      json(201, {
        results: await createPlatformInvitations(db, config, env.EMAIL_QUEUE as PlatformQueue, {
          userId: user.id,
          emails: [...new Set(body.emails)],
          now,
        }),
      }),
  }),
  defineRoute({
    method: "get",
    path: "/v1/platform/invitations",
    summary: "Platform invitations: every one for operators, the ones the caller sent for others",
    tag: "Platform invitations",
    auth: true,
    query: pageQuerySchema.extend({ status: statusSchema.default("pending") }),
    responses: { 200: { description: "Newest first.", schema: pageOf(platformInvitationSchema) } },
    errors: ["NOT_ADMITTED"],
    handler: async ({ db, config, user, query, now }) =>
      json(200, await listPlatformInvitations(db, config, { userId: user.id, status: query.status, page: query, now })),
  }),
  defineRoute({
    method: "post",
    path: "/v1/platform/invitations/preview",
    summary: "What a platform invitation link invites to (no auth)",
    tag: "Platform invitations",
    auth: false,
    body: tokenBody,
    responses: {
      200: {
        description: "Any known token, whatever its status.",
        schema: z.object({
          id: z.string(),
          invitedBy: z.object({ name: z.string().nullable() }),
          emailHint: z.string(),
          expiresAt: timestamp,
          status: statusSchema,
        }),
      },
    },
    errors: ["INVITE_NOT_FOUND", "RATE_LIMITED"],
    handler: async ({ db, request, config, body, now }) =>
      json(
        200,
        await previewPlatformInvitation(db, {
          token: body.token,
          now,
          rate: tokenWindow(request, config.RATE_LIMIT_TOKEN_PER_MINUTE, now),
        }),
      ),
  }),
  defineRoute({
    method: "post",
    path: "/v1/platform/invitations/accept",
    summary: "Accept a platform invitation: admits the caller (within the cap) and records the referral",
    tag: "Platform invitations",
    auth: true,
    waitlistAllowed: true,
    body: tokenBody,
    responses: {
      200: {
        description: "The caller, admitted.",
        schema: z.object({
          user: z.object({
            id: z.string(),
            access: z.enum(["active", "waitlisted"]),
            referredBy: z.string().nullable(),
          }),
        }),
      },
    },
    errors: [
      "INVITE_NOT_FOUND",
      "INVITE_EXPIRED",
      "INVITE_REVOKED",
      "INVITE_ALREADY_ACCEPTED",
      "INVITE_EMAIL_MISMATCH",
      "EMAIL_NOT_VERIFIED",
      "SIGNUP_CAP_REACHED",
      "RATE_LIMITED",
    ],
    handler: async ({ db, request, config, user, body, now }) =>
      json(
        200,
        await acceptPlatformInvitation(db, config, {
          token: body.token,
          userId: user.id,
          now,
          rate: tokenWindow(request, config.RATE_LIMIT_TOKEN_PER_MINUTE, now),
        }),
      ),
  }),
  defineRoute({
    method: "post",
    path: "/v1/platform/invitations/:invitationId/resend",
    summary: "Resend a platform invitation with a new token and expiry (its inviter or an operator)",
    tag: "Platform invitations",
    auth: true,
    params: invitationParams,
    responses: { 200: { description: "The invitation, re-queued.", schema: platformInvitationSchema } },
    errors: ["NOT_FOUND", "INVITE_ALREADY_ACCEPTED", "INVITE_REVOKED", "INVITE_EXPIRED", "NOT_ADMITTED"],
    handler: async ({ db, env, config, user, params, now }) =>
      json(
        200,
        await resendPlatformInvitation(db, config, env.EMAIL_QUEUE as PlatformQueue, {
          userId: user.id,
          id: params.invitationId,
          now,
        }),
      ),
  }),
  defineRoute({
    method: "delete",
    path: "/v1/platform/invitations/:invitationId",
    summary: "Revoke a platform invitation (kept as revoked; idempotent)",
    tag: "Platform invitations",
    auth: true,
    params: invitationParams,
    responses: { 204: { description: "Revoked." } },
    errors: ["NOT_FOUND", "INVITE_ALREADY_ACCEPTED", "NOT_ADMITTED"],
    handler: async ({ db, config, user, params, now }) => {
      await revokePlatformInvitation(db, config, { userId: user.id, id: params.invitationId, now });
      return noContent();
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/me/referrals",
    summary: "Users the caller brought in (their referredBy is the caller)",
    tag: "Me",
    auth: true,
    query: pageQuerySchema,
    responses: {
      200: {
        description: "In the order they joined.",
        schema: pageOf(z.object({ userId: z.string(), name: z.string().nullable(), joinedAt: timestamp })),
      },
    },
    errors: ["NOT_ADMITTED"],
    handler: async ({ db, user, query }) => json(200, await listReferrals(db, user.id, query)),
  }),
];
