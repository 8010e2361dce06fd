/** The stylesheet shared by the Worker's pages (served inline with the response's CSP nonce). */
export const PAGE_CSS = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --border: #d0d7de; --accent: #1f6feb;
  --danger: #d1242f; --ok: #1a7f37; --bg: #f6f8fa; --card: #fff; --focus: #0969da; --dev: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 34rem; margin: 3rem auto; padding: 0 1rem; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 12px; padding: 1.5rem; }
.brand { font-weight: 700; letter-spacing: .02em; color: var(--muted); margin: 0 0 1rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0 0 1.25rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.message { margin: 0 0 1rem; }
.message:empty { display: none; }
.message p { margin: 0 0 .5rem; }
.message.error { color: var(--danger); }
.message.ok { color: var(--ok); }
.row { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; }
button, .button { font: inherit; cursor: pointer; border-radius: 8px; padding: .55rem 1.1rem;
  border: 1px solid var(--border); background: var(--card); color: var(--fg); text-decoration: none; display: inline-block; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button[aria-disabled="true"] { opacity: .6; cursor: progress; }
button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.signed-in { color: var(--muted); margin: 0 0 1rem; }
.dev { border: 2px dashed var(--dev); border-radius: 10px; padding: 1rem; margin: 0 0 1.25rem; background: #fff8c5; }
.badge { display: inline-block; font-size: .75rem; font-weight: 700; letter-spacing: .08em; text-transform: uppercase;
  color: #fff; background: var(--dev); border-radius: 4px; padding: .1rem .4rem; margin: 0 0 .5rem; }
label { display: block; font-weight: 600; margin: .5rem 0 .25rem; }
input[type="text"] { width: 100%; font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; padding: .5rem;
  border: 1px solid var(--border); border-radius: 6px; margin: 0 0 .75rem; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, monospace; background: #eff1f3; padding: .1em .3em; border-radius: 4px; }
.error { color: var(--danger); }
.error:empty { display: none; }
[hidden] { display: none !important; }
`;
