import type { RouteDefinition } from "../route";
import { auditRoutes } from "./audit";
import { inviteeRoutes } from "./invitee";
import { inviteRoutes } from "./invites";
import { meRoutes } from "./me";
import { memberRoutes } from "./members";
import { organizationRoutes } from "./organizations";
import { pageRoutes } from "./pages";
import { platformRoutes } from "./platform";
import { platformEventRoutes } from "./platform-events";
import { platformInvitationRoutes } from "./platform-invitations";
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
  ...auditRoutes,
  ...platformRoutes,
  ...platformInvitationRoutes,
  ...platformEventRoutes,
  ...webhookRoutes,
  ...pageRoutes,
];
