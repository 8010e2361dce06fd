import { iso } from "./db";
import type { OrgRole, ProjectRole } from "./roles";

/** Row shapes as SQL returns them, and their API views (API.md's Shapes). */
export interface OrganizationRow {
  id: string;
  name: string;
  slug: string;
  created_at: number;
  max_members: number | null;
}

export interface Organization {
  id: string;
  name: string;
  slug: string;
  createdAt: string;
  role: OrgRole;
  /** Added to the contract: the optional seat limit (null = unlimited). */
  maxMembers: number | null;
}

export function toOrganization(row: OrganizationRow, role: OrgRole): Organization {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    createdAt: iso(row.created_at),
    role,
    maxMembers: row.max_members,
  };
}

export interface ProjectRow {
  id: string;
  organization_id: string;
  name: string;
  created_at: number;
}

export interface Project {
  id: string;
  organizationId: string;
  name: string;
  createdAt: string;
  role: ProjectRole | null;
}

export function toProject(row: ProjectRow, role: ProjectRole | null): Project {
  return { id: row.id, organizationId: row.organization_id, name: row.name, createdAt: iso(row.created_at), role };
}

export interface MemberRow {
  user_id: string;
  /** users.ts's displayEmailSql. */
  email: string | null;
  name: string | null;
  role: string;
  created_at: number;
}

export interface Member<R extends string = OrgRole> {
  userId: string;
  email: string | null;
  name: string | null;
  role: R;
  joinedAt: string;
}

export function toMember<R extends string>(row: MemberRow): Member<R> {
  return { userId: row.user_id, email: row.email, name: row.name, role: row.role as R, joinedAt: iso(row.created_at) };
}
