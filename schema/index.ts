/** The drizzle description of Roster's D1 schema. `migrations/` is the source of truth; test/schema.test.ts proves the two agree. */
export * from "./accounts";
export * from "./audit";
export * from "./email-deliveries";
export * from "./events";
export * from "./invites";
export * from "./organizations";
export * from "./projects";
export * from "./users";
