/**
 * Roles and permissions: the one table PRODUCT.md describes. Every authorization decision in
 * Roster reads from here.
 */
export const ORG_ROLES = ["owner", "director", "manager", "member", "guest"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

export const PROJECT_ROLES = ["admin", "editor", "viewer"] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

export const DEFAULT_ORG_ROLE: OrgRole = "member";
export const DEFAULT_PROJECT_ROLE: ProjectRole = "viewer";

export type OrgPermission =
  | "org:read"
  | "org:read_members"
  | "org:update"
  | "org:delete"
  | "org:transfer"
  | "members:invite"
  | "members:update_role"
  | "members:remove"
  | "invites:read"
  | "invites:revoke"
  | "invites:resend"
  | "projects:create"
  | "projects:read_all"
  | "audit:read"
  | "analytics:view"
  | "dashboard:access";

const MANAGERS: readonly OrgRole[] = ["owner", "director", "manager"];

const PERMISSIONS: Record<OrgPermission, readonly OrgRole[]> = {
  "org:read": ORG_ROLES,
  // Guests see the organization's name only, not who else is in it.
  "org:read_members": ["owner", "director", "manager", "member"],
  "org:update": ["owner", "director"],
  "org:delete": ["owner"],
  "org:transfer": ["owner"],
  "members:invite": MANAGERS,
  "members:update_role": MANAGERS,
  "members:remove": MANAGERS,
  "invites:read": MANAGERS,
  "invites:revoke": MANAGERS,
  "invites:resend": MANAGERS,
  "projects:create": MANAGERS,
  "projects:read_all": MANAGERS,
  "audit:read": ["owner", "director"],
  "analytics:view": ["owner", "director", "manager", "member"],
  "dashboard:access": ["owner", "director", "manager", "member"],
};

export function hasPermission(role: OrgRole, permission: OrgPermission): boolean {
  return PERMISSIONS[permission].includes(role);
}

/** Higher is more powerful: owner 5 … guest 1. */
export function orgRank(role: OrgRole): number {
  return ORG_ROLES.length - ORG_ROLES.indexOf(role);
}

/**
 * Nobody grants a role above their own: an actor grants at most their own rank, and only an
 * owner makes another owner (which the rank rule already implies).
 */
export function canGrantOrgRole(actor: OrgRole, granted: OrgRole): boolean {
  return orgRank(granted) <= orgRank(actor);
}

/**
 * Role changes and removals act only on members ranked strictly below the actor, except that an
 * owner may act on other owners.
 */
export function canActOnMember(actor: OrgRole, target: OrgRole): boolean {
  if (actor === "owner") return true;
  return orgRank(target) < orgRank(actor);
}

/**
 * Who may manage a project member (change their project role, remove them): only someone whose
 * organization rank is not below the member's (PRODUCT.md: a project admin manages the members
 * "whose organization rank is not above their own"). Organization managers are held to it too:
 * reaching every project of the organization does not lift them over a director or an owner.
 */
export function canManageProjectMember(actor: OrgRole, target: OrgRole): boolean {
  return orgRank(target) <= orgRank(actor);
}

export function projectRank(role: ProjectRole): number {
  return PROJECT_ROLES.length - PROJECT_ROLES.indexOf(role);
}
