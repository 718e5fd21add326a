import type { RunningServer } from '../../src/server/serve.js';

/** One JSON request to an in-process server: its status and parsed body (null when empty). */
export async function call<T>(server: RunningServer, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}
