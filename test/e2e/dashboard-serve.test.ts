/**
 * `patchbay serve` serving the built dashboard, against a temp dir of fake built files (what
 * Vite writes: index.html, hashed assets with .br/.gz siblings): encodings by Accept-Encoding,
 * types, caching, the SPA fallback, the CSP, API routes untouched, no way out of the directory,
 * public files with tokens set, and `/` explaining how to build when nothing is built.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, startServer, tempDir, type ServerHandle } from './helpers.js';

afterAll(cleanupAll);

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-AbCd12_9.js"></script></head><body><div id="root"></div></body></html>\n';
const SCRIPT = `export const app = ${JSON.stringify('x'.repeat(4000))};\n`;
const STYLE = 'body { margin: 0 }\n';

/** A fake build: index.html, a hashed script with both precompressed siblings, a style without. */
function fakeBuild(): string {
  const dir = tempDir('patchbay-web-');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'index-AbCd12_9.js'), SCRIPT);
  writeFileSync(join(dir, 'assets', 'index-AbCd12_9.js.br'), brotliCompressSync(SCRIPT));
  writeFileSync(join(dir, 'assets', 'index-AbCd12_9.js.gz'), gzipSync(SCRIPT));
  writeFileSync(join(dir, 'assets', 'style-Zz9_8765.css'), STYLE);
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, '.env'), 'SECRET=1\n');
  const outside = tempDir('patchbay-outside-');
  writeFileSync(join(outside, 'secret.txt'), 'outside\n');
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'leak.txt'));
  return dir;
}

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Raw bytes, as sent (fetch would undo the content encoding). */
function raw(
  server: ServerHandle,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, path, method, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('serving the built dashboard (no tokens)', () => {
  let server: ServerHandle;
  let dir: string;
  beforeAll(async () => {
    dir = fakeBuild();
    server = await startServer({ env: { PATCHBAY_WEB_DIR: dir } });
  });

  it('serves index.html at / under a strict CSP, never cached', async () => {
    const res = await raw(server, '/', HTML);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(INDEX);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('picks the precompressed file by Accept-Encoding, with Vary and a year of cache', async () => {
    const path = '/assets/index-AbCd12_9.js';
    const br = await raw(server, path, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.body.equals(readFileSync(join(dir, 'assets', 'index-AbCd12_9.js.br')))).toBe(true);
    expect(br.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);

    const gz = await raw(server, path, { 'accept-encoding': 'br;q=0, gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.body.equals(readFileSync(join(dir, 'assets', 'index-AbCd12_9.js.gz')))).toBe(true);

    const plain = await raw(server, path, { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(SCRIPT);
    expect(plain.headers.vary).toBe('Accept-Encoding');

    // No precompressed sibling: the file as it is.
    const css = await raw(server, '/assets/style-Zz9_8765.css', { 'accept-encoding': 'br, gzip' });
    expect(css.headers['content-encoding']).toBeUndefined();
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.body.toString()).toBe(STYLE);

    const svg = await raw(server, '/favicon.svg');
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache');
  });

  it('answers HEAD without a body and a matching If-None-Match with 304', async () => {
    const head = await raw(server, '/assets/index-AbCd12_9.js', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(Buffer.byteLength(SCRIPT));
    const etag = String(head.headers.etag);
    const again = await raw(server, '/assets/index-AbCd12_9.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('answers any other page a browser opens with index.html; missing assets stay 404', async () => {
    const deep = await raw(server, '/runs/01HZX/log?line=42', HTML);
    expect(deep.status).toBe(200);
    expect(deep.body.toString()).toBe(INDEX);
    expect(deep.headers['cache-control']).toBe('no-cache');
    const asset = await raw(server, '/assets/index-gone1234.js', { accept: '*/*' });
    expect(asset.status).toBe(404);
    expect(JSON.parse(asset.body.toString()).error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('leaves the API, docs, health and metrics alone', async () => {
    const api = await raw(server, '/v1/nothing-here', HTML);
    expect(api.status).toBe(404);
    expect(JSON.parse(api.body.toString()).error.code).toBe('ROUTE_NOT_FOUND');
    const mcp = await raw(server, '/mcp/x', HTML);
    expect(mcp.body.toString()).not.toBe(INDEX);
    const health = await raw(server, '/health', HTML);
    expect(JSON.parse(health.body.toString())).toMatchObject({ status: 'ok' });
    const docs = await raw(server, '/docs/json');
    expect(JSON.parse(docs.body.toString()).paths['/v1/auth/login']).toBeDefined();
    const metrics = await raw(server, '/metrics', HTML);
    expect(metrics.body.toString()).toContain('# HELP');
    const runs = await raw(server, '/v1/runs', HTML);
    expect(JSON.parse(runs.body.toString())).toHaveProperty('runs');
  });

  it('never serves dotfiles, paths out of the directory or symlinks leading out', async () => {
    for (const path of [
      '/.env',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
      '/assets/..%5c..%5cetc%5cpasswd',
      '/leak.txt',
    ]) {
      const res = await raw(server, path, { accept: '*/*' });
      expect(res.status, path).toBe(404);
      expect(res.body.toString(), path).not.toMatch(/SECRET|outside|root:/);
    }
  });
});

describe('the dashboard with tokens set', () => {
  it('serves the app and its files to anyone; the API still needs a token', async () => {
    const dir = fakeBuild();
    const server = await startServer({
      env: { PATCHBAY_WEB_DIR: dir, PATCHBAY_API_TOKENS: 'tok-123456' },
      token: 'tok-123456',
    });
    expect((await raw(server, '/', HTML)).body.toString()).toBe(INDEX);
    expect((await raw(server, '/runs', HTML)).body.toString()).toBe(INDEX);
    expect((await raw(server, '/assets/index-AbCd12_9.js')).status).toBe(200);
    expect((await raw(server, '/v1/runs')).status).toBe(401);
    expect((await raw(server, '/docs/json')).status).toBe(401);
    expect((await raw(server, '/metrics')).status).toBe(401);
    await server.stop();
  });
});

describe('no dashboard built', () => {
  it('GET / says how to build it instead of 404', async () => {
    const server = await startServer({ env: { PATCHBAY_WEB_DIR: tempDir('patchbay-noweb-') } });
    const res = await raw(server, '/', HTML);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain('npm run build');
    expect(res.body.toString()).toContain('PATCHBAY_WEB_DIR');
    // No SPA fallback without an app.
    expect((await raw(server, '/runs', HTML)).status).toBe(404);
    await server.stop();
  });
});
