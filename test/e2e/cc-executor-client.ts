/**
 * A cc_executor client written from the protocol as the original service speaks it
 * (shared/reference/compat.md, its websocket_handler.py and models.py), not from Patchbay's
 * code: JSON-RPC 2.0 over one WebSocket, `connected` first, `ping` answered with a `pong`
 * notification, responses matched by id, everything without an id a notification.
 */
import WebSocket from 'ws';
import { waitFor } from '../helpers/wait.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface CcNotification {
  method: string;
  params: Json;
}

export interface CcResponse {
  id?: number | string;
  result?: Json;
  error?: { code: number; message: string; data?: Json };
}

export class CcExecutorClient {
  readonly notifications: CcNotification[] = [];
  readonly pings: number[] = [];
  closeCode: number | null = null;
  private readonly pending = new Map<number, (r: CcResponse) => void>();
  private nextId = 1;

  private constructor(
    readonly ws: WebSocket,
    /** Answer the server's heartbeat (a client that does not is closed after two). */
    public answerPings: boolean,
  ) {
    ws.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as Json;
      if (typeof message.id === 'number' && this.pending.has(message.id)) {
        this.pending.get(message.id)!(message as CcResponse);
        this.pending.delete(message.id);
        return;
      }
      if (typeof message.method === 'string') {
        if (message.method === 'ping') {
          this.pings.push(message.params?.timestamp);
          if (this.answerPings) ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'pong' }));
          return;
        }
        this.notifications.push({ method: message.method, params: message.params });
        return;
      }
      this.notifications.push({ method: '(unmatched)', params: message });
    });
    ws.on('close', (code) => (this.closeCode = code));
  }

  static connect(
    url: string,
    options: { answerPings?: boolean; headers?: Record<string, string> } = {},
  ): Promise<CcExecutorClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: options.headers ?? {} });
      // Listening from the start: `connected` is the first frame after the handshake.
      const client = new CcExecutorClient(ws, options.answerPings ?? true);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      ws.once('error', reject);
    });
  }

  request(method: string, params?: Json, timeoutMs = 30_000): Promise<CcResponse> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} (id ${id}): no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
    });
  }

  execute(command: string, timeout?: number): Promise<CcResponse> {
    return this.request('execute', timeout === undefined ? { command } : { command, timeout });
  }

  control(type: 'PAUSE' | 'RESUME' | 'CANCEL'): Promise<CcResponse> {
    return this.request('control', { type });
  }

  of(method: string): Json[] {
    return this.notifications.filter((n) => n.method === method).map((n) => n.params);
  }

  /** stdout as the client reassembles it (chunks joined in order). */
  stdout(): string {
    return this.of('process.output')
      .filter((p) => p.type === 'stdout')
      .map((p) => p.data)
      .join('');
  }

  waitFor(method: string, timeoutMs = 30_000): Promise<Json> {
    return waitFor(
      () => this.notifications.find((n) => n.method === method)?.params,
      `a ${method} notification`,
      timeoutMs,
      20,
    );
  }

  close(): void {
    this.ws.close();
  }
}
