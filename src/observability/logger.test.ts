import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line));
      cb();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('writes JSON with the service name and child bindings', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, format: 'json' });
    log.child({ runId: 'run_1' }).info({ pid: 42 }, 'run started');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: 'patchbay',
      runId: 'run_1',
      pid: 42,
      msg: 'run started',
    });
    expect(typeof lines[0]!.time).toBe('string');
  });

  it('redacts tokens, keys, passwords, authorization headers and run environments', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, format: 'json' });
    log.info(
      {
        token: 'tok-1',
        config: {
          apiTokens: ['a', 'b'],
          webhookSecret: 'whsec',
          databaseUrl: 'postgres://u:pw@h/db',
        },
        req: { headers: { authorization: 'Bearer abc', cookie: 'sid=1' } },
        provider: { apiKey: 'sk-123', password: 'hunter2' },
        run: { env: { AWS_SECRET_ACCESS_KEY: 'xyz' } },
      },
      'secrets everywhere',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of [
      'tok-1',
      'whsec',
      'pw@h',
      'Bearer abc',
      'sid=1',
      'sk-123',
      'hunter2',
      'xyz',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
  });

  it('respects the level', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, format: 'json', level: 'warn' });
    log.info('hidden');
    log.warn('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });
});
