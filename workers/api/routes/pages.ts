import { ApiError } from "../../core/errors";
import { acceptPageHtml, authMode } from "../../pages/accept-page";
import { demoPageHtml } from "../../pages/demo-page";
import { contentSecurityPolicy, devSignInEnabled, htmlResponse, newNonce } from "../../pages/html";
import { ROSTER_INVITES_JS } from "../../pages/roster-invites";
import { ROSTER_ORGANIZATION_JS } from "../../pages/roster-organization";
import { defineRoute } from "../route";

/** A web component's script: cacheable, and embeddable by product pages on other origins. */
function scriptRoute(path: string, summary: string, source: string) {
  return defineRoute({
    method: "get",
    path,
    summary,
    tag: "Pages",
    auth: false,
    hidden: true,
    responses: { 200: { description: "JavaScript." } },
    handler: async () =>
      new Response(source, {
        headers: {
          "Content-Type": "text/javascript; charset=utf-8",
          "Cache-Control": "public, max-age=300",
          // Product pages on other origins embed it with <script src>, also under COEP.
          "Cross-Origin-Resource-Policy": "cross-origin",
        },
      }),
  });
}

/** The browser-facing routes: HTML and a script, not part of the JSON API (hidden from /openapi.json). */
export const pageRoutes = [
  defineRoute({
    method: "get",
    path: "/invite",
    summary: "The page an invite email links to",
    tag: "Pages",
    auth: false,
    hidden: true,
    responses: { 200: { description: "HTML." } },
    handler: async ({ config }) => {
      const nonce = newNonce();
      return htmlResponse(acceptPageHtml(config, nonce), contentSecurityPolicy(nonce, authMode(config).clerk));
    },
  }),
  scriptRoute("/roster-invites.js", "The <roster-invites> web component", ROSTER_INVITES_JS),
  scriptRoute("/roster-organization.js", "The <roster-organization> admin panel", ROSTER_ORGANIZATION_JS),
  defineRoute({
    method: "get",
    path: "/demo",
    summary: "Development only: the banner and the admin panel with the development sign-in",
    tag: "Pages",
    auth: false,
    hidden: true,
    responses: { 200: { description: "HTML." } },
    handler: async ({ config }) => {
      // Same rule as the development sign-in: with any Clerk key configured, /demo does not exist.
      if (!devSignInEnabled(config)) throw new ApiError("NOT_FOUND", "No such resource.");
      const nonce = newNonce();
      return htmlResponse(demoPageHtml(nonce), contentSecurityPolicy(nonce, null));
    },
  }),
];
