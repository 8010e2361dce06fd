import type { RouteDefinition } from "../route";

export const inviteRoutes: RouteDefinition[] = [];
