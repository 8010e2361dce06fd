import type { RouteDefinition } from "../route";

export const memberRoutes: RouteDefinition[] = [];
