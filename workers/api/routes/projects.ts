import type { RouteDefinition } from "../route";

export const projectRoutes: RouteDefinition[] = [];
