import type { Db } from "../db";
import type { Enrollment } from "../domains";
import { prepare, sql } from "../sql";

export interface Suggestion {
  organization: { id: string; name: string };
  domain: string;
  enrollment: Enrollment;
}

/** The banner shows a handful; a user matches few organizations in practice. */
const SUGGESTIONS_MAX = 100;

/**
 * Organizations that claimed the domain of one of the caller's VERIFIED addresses, minus those the
 * caller belongs to or has a pending request to — never any other organization. One statement,
 * one round trip. An organization matching through several domains appears once, through an
 * `auto` domain when it has one (that is what the caller may do there).
 */
export async function listSuggestions(db: Db, input: { userId: string }): Promise<Suggestion[]> {
  const { results } = await prepare(
    db,
    sql`SELECT o.id, o.name,
              min(CASE d.enrollment WHEN 'auto' THEN '0' || d.domain ELSE '1' || d.domain END) AS pick
       FROM user_emails ue
       JOIN organization_domains d INDEXED BY organization_domains_domain
         ON d.domain = substr(ue.email, instr(ue.email, '@') + 1)
       JOIN organizations o ON o.id = d.organization_id
       WHERE ue.user_id = ${input.userId} AND ue.verified = 1
         AND NOT EXISTS (SELECT 1 FROM organization_users m WHERE m.organization_id = o.id AND m.user_id = ue.user_id)
         AND NOT EXISTS (SELECT 1 FROM join_requests r
                         WHERE r.organization_id = o.id AND r.user_id = ue.user_id AND r.status = 'pending')
       GROUP BY o.id
       ORDER BY o.name, o.id
       LIMIT ${SUGGESTIONS_MAX}`,
  ).all<{ id: string; name: string; pick: string }>();
  return results.map((r) => ({
    organization: { id: r.id, name: r.name },
    domain: r.pick.slice(1),
    enrollment: r.pick.startsWith("0") ? "auto" : "request",
  }));
}
