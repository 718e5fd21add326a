/**
 * The two small HTML pages a person may meet in a browser: what this server is (at `/`, while
 * the dashboard is not built), and
 * why the API asks for a token. Plain HTML, no script, style or external resource, so the
 * server's strict Content-Security-Policy (`default-src 'none'`) serves them unchanged.
 */

/** A browser asking for a page (not an API client, which asks for JSON or anything). */
export function wantsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body>
${body}
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `GET /` when the dashboard is not built: what this is, how to get the dashboard. */
export function landingPage(version: string): string {
  return page(
    'Patchbay',
    `<h1>Patchbay ${escapeHtml(version)}</h1>
<p>A self-hosted control plane for AI coding agents: this server runs agents and commands on
repositories, streams what they do, and delivers the result.</p>
<p>The web dashboard is not built, so this page is all <code>/</code> shows. Build it with
<code>npm install &amp;&amp; npm run build</code> in a checkout of Patchbay (it is written to
<code>dist/web/</code>), or point <code>PATCHBAY_WEB_DIR</code> at a built copy, then restart
<code>patchbay serve</code>. Until then the server is driven through its API and the
<code>patchbay</code> command.</p>
<ul>
<li><a href="/docs">API documentation</a> (OpenAPI: <a href="/docs/json">/docs/json</a>)</li>
<li><a href="/health">/health</a>: liveness; <a href="/ready">/ready</a>: store and queue answer;
<a href="/health/queue">/health/queue</a>: runs running and waiting</li>
<li>REST under <code>/v1</code>, e.g. <code>GET /v1/runs</code>; from a terminal:
<code>PATCHBAY_URL=&lt;this server&gt; patchbay run -- echo hello</code></li>
</ul>`,
  );
}

/** 401 for a browser: a page cannot send a bearer token, so say how to pass one. */
export function unauthorizedPage(): string {
  return page(
    'Patchbay: API token required',
    `<h1>This Patchbay server needs an API token</h1>
<p>Every request, the API documentation included, must carry one of the server's tokens
(<code>PATCHBAY_API_TOKENS</code>) in an <code>Authorization</code> header. A browser does not send
that header when you open a page, so this page is all it can show.</p>
<ul>
<li>With curl: <code>curl -H "Authorization: Bearer $TOKEN" http://&lt;server&gt;/docs/json</code>
(the OpenAPI document; any tool that reads it can browse the API).</li>
<li>With the CLI: set <code>PATCHBAY_TOKEN</code> (or pass <code>--token</code>) and
<code>PATCHBAY_URL</code> (or <code>--url http://&lt;server&gt;</code>).</li>
<li>In a browser: log in to the dashboard at <a href="/">/</a> with a token; the session cookie
then opens these pages too.</li>
<li>Without tokens, the server listens on loopback only and answers every page without one.</li>
</ul>`,
  );
}
