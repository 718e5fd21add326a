import { afterEach, describe, expect, it } from 'vitest';
import { injectServers } from '../../test/helpers/inject-server.js';
import { listenError } from './listen-errors.js';
import { wantsHtml } from './pages.js';

const servers = injectServers('pb-pages-');
afterEach(servers.closeAll);

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** Anything the page would load from elsewhere, or run: none is allowed under its CSP. */
function externalOrActive(html: string): string[] {
  return [
    ...html.matchAll(/<(script|style|link|img|iframe)\b|\bstyle=|(src|href)="(https?:)?\/\//gi),
  ].map((m) => m[0]);
}

/**
 * These are the pages of a server without a built dashboard (`npm run build` makes one in
 * dist/web/, which then owns `/`: test/e2e/dashboard-serve.test.ts).
 */
const NO_DASHBOARD = { PATCHBAY_WEB_DIR: '/nonexistent/patchbay-web' };

describe('the pages a browser meets', () => {
  it('GET / says what this is and points at /docs and /health, under the strict CSP', async () => {
    const { app } = await servers.boot(NO_DASHBOARD);
    const res = await app.inject({ method: 'GET', url: '/', headers: { accept: BROWSER } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    expect(res.body).toContain('Patchbay 9.9.9');
    expect(res.body).toContain('href="/docs"');
    expect(res.body).toContain('href="/health"');
    expect(externalOrActive(res.body)).toEqual([]);
    const head = await app.inject({ method: 'HEAD', url: '/' });
    expect(head.statusCode).toBe(200);
  });

  it('keeps the Host guard in front of the page', async () => {
    const { app } = await servers.boot(NO_DASHBOARD);
    const res = await app.inject({
      method: 'GET',
      url: '/',
      headers: { host: 'rebound.example.com', accept: BROWSER },
    });
    expect(res.statusCode).toBe(421);
    expect(res.json().error.code).toBe('HOST_NOT_ALLOWED');
  });

  it('with tokens, a browser gets a page on how to pass one; API clients keep the JSON 401', async () => {
    const { app } = await servers.boot({ ...NO_DASHBOARD, PATCHBAY_API_TOKENS: 'alpha' });
    for (const url of ['/docs', '/']) {
      const page = await app.inject({ method: 'GET', url, headers: { accept: BROWSER } });
      expect(page.statusCode).toBe(401);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('Authorization: Bearer');
      expect(page.body).toContain('PATCHBAY_API_TOKENS');
      expect(externalOrActive(page.body)).toEqual([]);
    }
    for (const accept of [undefined, 'application/json', '*/*']) {
      const json = await app.inject({
        method: 'GET',
        url: '/docs',
        headers: accept ? { accept } : {},
      });
      expect(json.statusCode).toBe(401);
      expect(json.json().error.code).toBe('UNAUTHORIZED');
    }
    const authed = await app.inject({
      method: 'GET',
      url: '/',
      headers: { accept: BROWSER, authorization: 'Bearer alpha' },
    });
    expect(authed.statusCode).toBe(200);
  });

  it('tells a browser from an API client by its Accept header', () => {
    expect(wantsHtml(BROWSER)).toBe(true);
    expect(wantsHtml('text/html')).toBe(true);
    expect(wantsHtml('application/json')).toBe(false);
    expect(wantsHtml('*/*')).toBe(false);
    expect(wantsHtml('text/htmlx')).toBe(false);
    expect(wantsHtml(undefined)).toBe(false);
  });
});

describe('listenError', () => {
  const settings = { portFlag: '--port', portSetting: 'PATCHBAY_PORT' };
  const errno = (code: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`listen ${code}`), { code });

  it('names the address and the way to pick another for each user-caused failure', () => {
    // EACCES cannot be provoked as root (tests run as root), so the mapping is checked here.
    const forbidden = listenError(errno('EACCES'), '127.0.0.1', 80, settings) as Error & {
      code: string;
    };
    expect(forbidden.code).toBe('SERVER_PORT_FORBIDDEN');
    expect(forbidden.message).toContain('127.0.0.1:80');
    expect(forbidden.message).toContain('--port');
    expect(forbidden.message).toContain('PATCHBAY_PORT');
    const inUse = listenError(errno('EADDRINUSE'), '::1', 7070, settings) as {
      code: string;
      message: string;
    };
    expect(inUse.code).toBe('SERVER_PORT_IN_USE');
    expect(inUse.message).toContain('[::1]:7070');
    const other = errno('EMFILE');
    expect(listenError(other, '127.0.0.1', 7070, settings)).toBe(other);
  });
});
