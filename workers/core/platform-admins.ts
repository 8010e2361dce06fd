import type { Config } from "./config";
import { ApiError } from "./errors";

/**
 * Operators: the users listed in PLATFORM_ADMIN_USER_IDS. The one check every operator endpoint
 * makes; to everyone else an operator endpoint does not exist (404, no oracle). No D1 read: the
 * list is configuration.
 */
export function isPlatformAdmin(config: Config, userId: string): boolean {
  return config.PLATFORM_ADMIN_USER_IDS.includes(userId);
}

export function requirePlatformAdmin(config: Config, userId: string): void {
  if (!isPlatformAdmin(config, userId)) throw new ApiError("NOT_FOUND", "No such resource.");
}
