import { z } from "zod";
import { INVITE_SOURCES, INVITE_STATUSES } from "../../core/invites/views";
import { organizationSchema, orgRoleSchema, projectRoleSchema, projectSchema, timestamp } from "../schemas";

/** The response shapes of the invite routes (API.md's `Invite`, `ReceivedInvite`, the preview). */
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
  source: z.enum(INVITE_SOURCES).describe("owner_add: an existing user added by id, pending their consent"),
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

export const createResultSchema = z.object({
  results: z.array(
    z.object({
      email: z.string(),
      outcome: z.enum(["invited", "already_invited", "already_member"]),
      invite: inviteSchema.nullable(),
    }),
  ),
});

export const receivedInviteSchema = z.object({
  id: z.string(),
  kind: z.enum(["organization", "project"]),
  source: z.enum(INVITE_SOURCES).describe("owner_add: an organization added you by id, pending your consent"),
  organization: z.object({ id: z.string(), name: z.string() }),
  project: z.object({ id: z.string(), name: z.string() }).nullable(),
  role: orgRoleSchema,
  projectRole: projectRoleSchema.nullable(),
  invitedBy: z.object({ name: z.string().nullable() }),
  expiresAt: timestamp,
});

export const previewSchema = z.object({
  organization: z.object({ name: z.string() }),
  project: z.object({ name: z.string() }).nullable(),
  role: orgRoleSchema,
  projectRole: projectRoleSchema.nullable(),
  invitedBy: z.object({ name: z.string().nullable() }),
  emailHint: z.string().describe('e.g. "j•••@example.com"'),
  expiresAt: timestamp,
  status: inviteStatusSchema,
});

export const acceptedSchema = z.object({ organization: organizationSchema, project: projectSchema.nullable() });
