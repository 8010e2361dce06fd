import type { OrgRole } from "../core/roles";
import { escapeHtml as e, formatDate, headerValue, oneLine, type RenderedEmail, withArticle } from "./template";

/**
 * The notification emails: no token, no secret link — the recipient acts signed in. Every value
 * from the database is untrusted: escaped in HTML, single-lined in the subject.
 */

/** An organization added an existing user, pending their consent (an `owner_add` invite). */
export interface MembershipOfferDetails {
  email: string;
  organizationName: string;
  role: OrgRole;
  inviterName: string | null;
  inviterEmail: string | null;
  expiresAt: number;
  /** Where the user signs in to accept (APP_URL). */
  appUrl: string;
  productName: string;
}

export function renderMembershipOffer(d: MembershipOfferDetails): RenderedEmail {
  const inviter = oneLine(d.inviterName ?? "") || oneLine(d.inviterEmail ?? "") || "A teammate";
  const org = oneLine(d.organizationName);
  const subject = `${inviter} added you to ${org} on ${d.productName}`;
  const lines = [
    `${inviter} added you to the organization ${org} as ${withArticle(d.role)}.`,
    "You are not a member until you accept: sign in to accept or decline.",
    `This offer expires on ${formatDate(d.expiresAt)}. If you were not expecting it, decline it or ignore this email.`,
  ];
  return render(d.email, subject, `Join ${org}?`, lines, { label: `Sign in to ${d.productName}`, url: d.appUrl });
}

/** A join request was approved or denied. */
export interface JoinRequestDecisionDetails {
  email: string;
  organizationName: string;
  status: "approved" | "denied";
  role: OrgRole | null;
  appUrl: string;
  productName: string;
}

export function renderJoinRequestDecision(d: JoinRequestDecisionDetails): RenderedEmail {
  const org = oneLine(d.organizationName);
  if (d.status === "approved") {
    const subject = `You joined ${org} on ${d.productName}`;
    const lines = [`Your request to join ${org} was approved: you are now ${withArticle(d.role ?? "member")} there.`];
    return render(d.email, subject, `Welcome to ${org}`, lines, { label: `Open ${d.productName}`, url: d.appUrl });
  }
  const subject = `Your request to join ${org} was declined`;
  const lines = [
    `An administrator of ${org} declined your request to join it.`,
    "If you think this is a mistake, ask someone in the organization to invite you.",
  ];
  return render(d.email, subject, `Request to join ${org}`, lines, null);
}

function render(
  to: string,
  subject: string,
  heading: string,
  lines: string[],
  action: { label: string; url: string } | null,
): RenderedEmail {
  const text = [...lines, "", ...(action ? [`${action.label}: ${action.url}`, ""] : [])].join("\n");
  const paragraphs = lines
    .map((line) => `<p style="margin:0 0 12px;font-size:15px;line-height:1.5">${e(line)}</p>`)
    .join("\n");
  const button = action
    ? `<p style="margin:24px 0"><a href="${e(action.url)}" style="display:inline-block;padding:12px 20px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">${e(action.label)}</a></p>\n`
    : "";
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${e(subject)}</title></head>
<body style="margin:0;padding:24px;background:#f4f4f5;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#18181b">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px">
<tr><td style="padding:32px">
<h1 style="margin:0 0 16px;font-size:20px">${e(heading)}</h1>
${paragraphs}
${button}</td></tr>
</table>
</body>
</html>
`;
  return { to: headerValue(to), subject: headerValue(subject), text, html };
}
