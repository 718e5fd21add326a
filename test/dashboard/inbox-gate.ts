/**
 * A gate in front of a fake provider: passes every request through, except while closed,
 * when requests wait until it opens. The inbox browser test holds GitHub's answers with it to
 * see "test all" show the other connectors' steps before GitHub's: live, not at the end.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';

export interface Gate {
  readonly url: string;
  close(): void;
  open(): void;
  /** Requests waiting now. */
  held(): number;
  stop(): Promise<void>;
}

export async function startGate(target: string): Promise<Gate> {
  const upstream = new URL(target);
  let closed = false;
  let waiting: Array<() => void> = [];
  const pass = (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    const proxied = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    proxied.on('error', () => res.destroy());
    proxied.end(body);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const go = () => pass(req, Buffer.concat(chunks), res);
      if (closed) waiting.push(go);
      else go();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      closed = true;
    },
    open: () => {
      closed = false;
      const go = waiting;
      waiting = [];
      for (const g of go) g();
    },
    held: () => waiting.length,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
