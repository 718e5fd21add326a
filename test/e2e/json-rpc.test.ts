import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  cleanupAll,
  FIXTURES,
  isTerminalStatusEvent,
  normalizeEvents as norm,
  RpcClient,
  type RpcResponse,
  sleep,
  startServer,
  type RunEvent,
  type ServerHandle,
} from './helpers.js';

let server: ServerHandle;
let wsUrl: string;
const clients: RpcClient[] = [];

async function connect(): Promise<RpcClient> {
  const client = await RpcClient.connect(wsUrl);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  server = await startServer({ env: { PATCHBAY_KILL_GRACE_MS: '300' } });
  wsUrl = `${server.url.replace(/^http/, 'ws')}/v1/ws`;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await cleanupAll();
});

const eventsOf = (client: RpcClient, runId: string): RunEvent[] =>
  client.notifications
    .filter((n) => n.method === 'run.event' && n.params.runId === runId)
    .map((n) => n.params as RunEvent);

describe.concurrent('WebSocket JSON-RPC at /v1/ws', () => {
  it('run.create + run.subscribe stream run.event notifications through the terminal status', async ({
    expect,
  }) => {
    const rpc = await connect();
    const created = await rpc.call('run.create', {
      command: ['sh', '-c', 'echo ws-1; sleep 0.1; echo ws-2'],
    });
    expect(created.error).toBeUndefined();
    const id = created.result.id as string;
    expect(id).toMatch(/^run_/);

    const sub = await rpc.call('run.subscribe', { id });
    expect(sub.result).toEqual({ subscribed: true, id, after: 0 });
    await rpc.waitForNotification(
      (n) => n.method === 'run.event' && n.params.runId === id && isTerminalStatusEvent(n.params),
    );
    await sleep(100); // nothing may follow the terminal event
    const events = eventsOf(rpc, id);
    expect(events.map((e) => e.seq)).toEqual(
      Array.from({ length: events.length }, (_, i) => i + 1),
    );
    expect(isTerminalStatusEvent(events[events.length - 1]!)).toBe(true);
    expect(events[events.length - 1]!.data.status).toBe('succeeded');
    expect(
      events
        .filter((e) => e.type === 'output')
        .map((e) => e.data.text)
        .join(''),
    ).toBe('ws-1\nws-2\n');
    expect(norm(events)).toEqual(norm(await server.api.events(id)));

    const got = await rpc.call('run.get', { id });
    expect(got.result).toMatchObject({ id, status: 'succeeded', exitCode: 0 });
  });

  it('run.subscribe with after replays only later events', async ({ expect }) => {
    const rpc = await connect();
    const run = await server.api.createRun({ command: ['sh', '-c', 'echo a; echo b'], wait: true });
    const sub = await rpc.call('run.subscribe', { id: run.id, after: 2 });
    expect(sub.result).toMatchObject({ subscribed: true, after: 2 });
    await rpc.waitForNotification(
      (n) => n.params?.runId === run.id && isTerminalStatusEvent(n.params),
    );
    expect(eventsOf(rpc, run.id).map((e) => e.seq)).toEqual(
      Array.from({ length: run.lastSeq - 2 }, (_, i) => i + 3),
    );
  });

  it('run.pause, run.resume and run.cancel control a live run', async ({ expect }) => {
    const rpc = await connect();
    const created = await rpc.call('run.create', { command: ['sh', `${FIXTURES}/ticker.sh`] });
    const id = created.result.id as string;
    await server.api.waitForProcess(id);

    const paused = await rpc.call('run.pause', { id });
    expect(paused.result?.status).toBe('paused');
    const resumed = await rpc.call('run.resume', { id });
    expect(resumed.result?.status).toBe('running');
    const cancelled = await rpc.call('run.cancel', { id });
    expect(cancelled.error).toBeUndefined();
    expect((await server.api.waitForStatus(id)).status).toBe('cancelled');

    const again = await rpc.call('run.cancel', { id });
    expect(again.error?.code).toBe(-32000);
    expect(again.error?.data?.code).toBe('RUN_NOT_ACTIVE');
  });

  it('run.create with wait answers with the finished run', async ({ expect }) => {
    const rpc = await connect();
    const res = await rpc.call('run.create', { command: ['sh', '-c', 'exit 4'], wait: true });
    expect(res.result).toMatchObject({ status: 'failed', exitCode: 4 });
    expect(res.result.error.code).toBe('RUN_EXIT_NONZERO');
  });

  it('malformed JSON is -32700 with data.code RPC_PARSE_ERROR and id null', async ({ expect }) => {
    const rpc = await connect();
    const res = await rpc.sendRaw('{"jsonrpc": "2.0", "method": ');
    expect(res).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    expect(res.error.data.code).toBe('RPC_PARSE_ERROR');
    // The connection survives a bad message.
    expect((await rpc.call('run.get', { id: 'run_x' })).error?.data?.code).toBe('RUN_NOT_FOUND');
  });

  it.for([
    ['a number', '42'],
    ['a string', '"hello"'],
    ['missing jsonrpc', '{"id": 7, "method": "run.get", "params": {"id": "x"}}'],
    ['wrong jsonrpc version', '{"jsonrpc": "1.0", "id": 8, "method": "run.get"}'],
    ['an empty batch', '[]'],
  ] as const)('%s is -32600 RPC_INVALID_REQUEST', async ([, text], { expect }) => {
    const rpc = await connect();
    const res = await rpc.sendRaw(text);
    expect(res.error.code).toBe(-32600);
    expect(res.error.data.code).toBe('RPC_INVALID_REQUEST');
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'id' in parsed) {
      expect(res.id).toBe((parsed as { id: unknown }).id);
    } else {
      expect(res.id).toBeNull();
    }
  });

  it('an unknown method is -32601 RPC_METHOD_NOT_FOUND', async ({ expect }) => {
    const rpc = await connect();
    const res = await rpc.call('run.explode', {});
    expect(res.error?.code).toBe(-32601);
    expect(res.error?.data?.code).toBe('RPC_METHOD_NOT_FOUND');
    // Inherited object keys are not methods either.
    const proto = await rpc.call('constructor', {});
    expect(proto.error?.code).toBe(-32601);
  });

  it('invalid params are -32602 with data.code VALIDATION_FAILED', async ({ expect }) => {
    const rpc = await connect();
    const bad = await rpc.call('run.create', { command: 'not-an-array' });
    expect(bad.error?.code).toBe(-32602);
    expect(bad.error?.data?.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(bad.error?.data?.details)).toContain('command');
    const missingId = await rpc.call('run.get', {});
    expect(missingId.error?.code).toBe(-32602);
    expect(missingId.error?.data?.code).toBe('VALIDATION_FAILED');
  });

  it('application errors carry the catalog code in data.code', async ({ expect }) => {
    const rpc = await connect();
    const res = await rpc.call('run.get', { id: 'run_nope' });
    expect(res.error?.data?.code).toBe('RUN_NOT_FOUND');
    expect(typeof res.error?.message).toBe('string');
    const sub = await rpc.call('run.subscribe', { id: 'run_nope' });
    expect(sub.error?.data?.code).toBe('RUN_NOT_FOUND');
  });

  it('a batch returns an array with one response per request (none for notifications)', async ({
    expect,
  }) => {
    const rpc = await connect();
    const run = await server.api.createRun({ command: ['true'], wait: true });
    const res = await rpc.sendRaw(
      JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'run.get', params: { id: run.id } },
        { jsonrpc: '2.0', id: 'b', method: 'run.nope' },
        { jsonrpc: '2.0', method: 'run.get', params: { id: run.id } }, // notification
        { jsonrpc: '2.0', id: 'c', method: 'run.get', params: { id: 'run_missing' } },
        17,
      ]),
    );
    expect(Array.isArray(res)).toBe(true);
    expect(res).toHaveLength(4);
    const byId = new Map((res as RpcResponse[]).map((r) => [r.id, r]));
    expect(byId.get('a')?.result.id).toBe(run.id);
    expect(byId.get('b')?.error?.code).toBe(-32601);
    expect(byId.get('c')?.error?.data?.code).toBe('RUN_NOT_FOUND');
    expect(byId.get(null)?.error?.code).toBe(-32600);
  });

  it('run.list returns runs newest first', async ({ expect }) => {
    const rpc = await connect();
    const run = await server.api.createRun({ command: ['true'], wait: true });
    const res = await rpc.call('run.list', { limit: 200 });
    expect(Array.isArray(res.result.runs)).toBe(true);
    expect(res.result.runs.map((r: { id: string }) => r.id)).toContain(run.id);
  });
});
