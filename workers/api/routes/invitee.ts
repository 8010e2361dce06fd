import type { RouteDefinition } from "../route";

export const inviteeRoutes: RouteDefinition[] = [];
