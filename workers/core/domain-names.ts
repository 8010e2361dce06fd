import freeMailDomains from "email-providers/all.json";
import { getDomain } from "tldts";

/**
 * Email domains as organizations claim them: the canonical form, and which domains no
 * organization may claim. Both lists are maintained upstream rather than typed here:
 * - public suffixes (`com`, `co.uk`, `github.io`, …) from the Public Suffix List, through `tldts`
 *   (ICANN and private sections: nobody owns `github.io` for everyone under it);
 * - free-mail providers (`gmail.com`, `outlook.com`, `proton.me`, …) from `email-providers`
 *   (its `all.json`, some 8,700 domains), whose addresses belong to no one organization.
 */
const FREE_MAIL = new Set<string>(freeMailDomains as string[]);

/** A hostname in ASCII: labels of letters, digits and inner hyphens, at least two of them. */
const ASCII_HOSTNAME = /^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * The canonical form of a domain: trimmed, without a trailing dot, lower-case, IDNA ASCII
 * (`Bücher.example` → `xn--bcher-kva.example`, via the WHATWG URL parser, which applies UTS #46).
 * Null when it is not a plain domain name (a port, a path, an address, an IP literal, …).
 */
export function canonicalDomain(raw: string): string | null {
  const trimmed = raw.trim().replace(/\.$/, "");
  // Anything the URL parser would read as something other than a host is not a domain.
  if (trimmed === "" || /[\s/\\:@?#[\]%]/u.test(trimmed)) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${trimmed}`).hostname;
  } catch {
    return null;
  }
  if (!ASCII_HOSTNAME.test(hostname) || /^[0-9.]+$/.test(hostname)) return null;
  return hostname;
}

/** Why a canonical domain may not be claimed, or null when it may. */
export function domainRefusal(domain: string): string | null {
  const registrable = getDomain(domain, { allowPrivateDomains: true });
  if (registrable === null) return `${domain} is a public suffix: no one organization owns the addresses under it.`;
  if (FREE_MAIL.has(domain) || FREE_MAIL.has(registrable)) {
    return `${domain} is a free email provider: its addresses do not belong to one organization.`;
  }
  return null;
}

/** The domain part of a canonical address. */
export function domainOfEmail(email: string): string {
  return email.slice(email.lastIndexOf("@") + 1);
}
