import type { RouteDefinition } from "../route";
import { auditRoutes } from "./audit";
import { domainRoutes } from "./domains";
import { inviteeRoutes } from "./invitee";
import { inviteRoutes } from "./invites";
import { joinRequestRoutes } from "./join-requests";
import { meRoutes } from "./me";
import { memberRoutes } from "./members";
import { organizationRoutes } from "./organizations";
import { pageRoutes } from "./pages";
import { projectRoutes } from "./projects";
import { serviceRoutes } from "./service";
import { webhookRoutes } from "./webhooks";

/** Every route of the API, in one table: the router serves it and /openapi.json documents it. */
export const routes: RouteDefinition[] = [
  ...serviceRoutes,
  ...meRoutes,
  ...organizationRoutes,
  ...memberRoutes,
  ...projectRoutes,
  ...inviteRoutes,
  ...inviteeRoutes,
  ...domainRoutes,
  ...joinRequestRoutes,
  ...auditRoutes,
  ...webhookRoutes,
  ...pageRoutes,
];
