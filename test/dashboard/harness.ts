/**
 * Browser harness for the dashboard tests: a real `patchbay serve` (the built dist/, a temp
 * data dir) and Debian's Chromium driven by playwright-core. No browser is downloaded: the
 * tests use /usr/bin/chromium (`.ci/run` installs it), or PATCHBAY_TEST_CHROMIUM.
 *
 * Until the server serves dist/web/ itself, `startDashboard` puts a small same-origin bridge
 * in front of it: the built files from dist/web/ and everything else passed through to the
 * real server. When the server answers `/` with the app, the bridge is not started.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { testIds } from '../../src/contracts/test-ids.js';
import {
  cleanupAll,
  freePort,
  ROOT,
  startServer,
  type ServerHandle,
  type ServerOptions,
} from '../e2e/helpers.js';

export { testIds };
export { cleanupAll, waitFor, sleep, trackPids, type ServerHandle } from '../e2e/helpers.js';

export const WEB_DIST = join(ROOT, 'dist', 'web');

/** `[data-testid="…"]` for a test id of `testIds`. */
export const tid = (id: string): string => `[data-testid="${id}"]`;

export interface Dashboard {
  /** Where the browser goes: the server itself, or the bridge in front of it. */
  readonly url: string;
  readonly server: ServerHandle;
  stop(): Promise<void>;
}

function assertWebBuilt(): void {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) {
    throw new Error(`dashboard: ${index} is missing; run \`npm run build\` first.`);
  }
  const built = statSync(index).mtimeMs;
  const newest = statSync(join(ROOT, 'web', 'src')).mtimeMs;
  if (newest > built + 1000) {
    throw new Error('dashboard: dist/web/ is older than web/src/; run `npm run build` first.');
  }
}

/** Starts a real server (with `options`) and answers the URL the browser should open. */
export async function startDashboard(options: ServerOptions = {}): Promise<Dashboard> {
  assertWebBuilt();
  // A browser starts beside it, on a loaded 2-core box: give the server time.
  const server = await startServer({ startTimeoutMs: 60_000, ...options });
  if (await servesApp(server.url)) {
    return { url: server.url, server, stop: () => server.stop().then(() => undefined) };
  }
  const bridge = await startBridge(server.url);
  return {
    url: bridge.url,
    server,
    async stop() {
      await new Promise<void>((r) => bridge.server.close(() => r()));
      await server.stop();
    },
  };
}

async function servesApp(url: string): Promise<boolean> {
  const res = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
  const body = await res.text();
  return res.ok && body.includes('<div id="root">');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

async function startBridge(target: string): Promise<{ server: Server; url: string }> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const isApi = /^\/(v1|health|mcp|docs|metrics)(\/|$)/.test(path);
    if (!isApi && req.method === 'GET') {
      const file = normalize(join(WEB_DIST, path));
      const inside = file.startsWith(WEB_DIST) && existsSync(file) && statSync(file).isFile();
      const chosen = inside ? file : join(WEB_DIST, 'index.html');
      res.writeHead(200, { 'content-type': TYPES[extname(chosen)] ?? 'application/octet-stream' });
      res.end(readFileSync(chosen));
      return;
    }
    const proxied = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        // The bridge stands in for the server's own origin: the page's requests are
        // same-origin requests to the server.
        headers: {
          ...req.headers,
          host: upstream.host,
          ...(req.headers.origin ? { origin: upstream.origin } : {}),
        },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    proxied.on('error', () => res.destroy());
    req.pipe(proxied);
    res.on('close', () => proxied.destroy());
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${port}` };
}

export const CHROMIUM = process.env.PATCHBAY_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Debian's Chromium, headless. Throws a clear message when it is not installed. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `dashboard: no Chromium at ${CHROMIUM}; install Debian's (apt-get install chromium) ` +
        'or set PATCHBAY_TEST_CHROMIUM',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI has no user namespace sandbox to offer; /dev/shm is small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 360, height: 740 } as const;

/** A fresh context (own cookies and storage) and page at `viewport`, opened at `url`. */
export async function openPage(
  browser: Browser,
  url: string,
  viewport: { width: number; height: number } = DESKTOP,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(url);
  return { context, page };
}

const AXE_SOURCE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core in the page and answers its serious and critical violations (WCAG 2.x A and
 * AA rules and best practices), each with the selectors of the offending nodes.
 */
export async function axeScan(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, not as a <script>: the app's Content Security
  // Policy (script-src 'self') stays on for the scan, as a visitor has it.
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(`
    window.axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => n.target.join(' ')),
      })),
    )
  `)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Stops what a test file started (servers, run processes, temp dirs). */
export async function cleanupDashboard(browser: Browser | undefined): Promise<void> {
  await browser?.close().catch(() => undefined);
  await cleanupAll();
}
