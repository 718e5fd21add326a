import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  composeTopology,
  execForm,
  instanceEnv,
  interpolate,
  parseDockerfile,
  parseDuration,
  publishedPorts,
  rewriteServiceUrl,
  serviceEnvironment,
  stageEnv,
} from './topology.js';

const vars = { PATCHBAY_API_TOKENS: 'tok-a,tok-b', POSTGRES_PASSWORD: 'pw' };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A compose file in a temp dir (with the repository's Dockerfile unless given). */
function composeFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-topology-'));
  dirs.push(dir);
  const file = join(dir, 'docker-compose.yml');
  writeFileSync(file, text);
  return file;
}

describe('interpolate (compose variable syntax)', () => {
  it('substitutes, defaults and escapes like compose', () => {
    const v = { A: 'a', EMPTY: '' };
    expect(interpolate('$A ${A} x$${A}', v)).toBe('a a x${A}');
    expect(interpolate('${MISSING:-d} ${EMPTY:-d} ${EMPTY-d} ${MISSING-d}', v)).toBe('d d  d');
    expect(interpolate('${MISSING}', v)).toBe('');
  });

  it('fails on a missing required variable with its message', () => {
    expect(() => interpolate('${TOKENS:?set TOKENS please}', {})).toThrow(
      'required variable TOKENS is missing a value: set TOKENS please',
    );
    expect(() => interpolate('${TOKENS:?x}', { TOKENS: '' })).toThrow(/TOKENS/);
    expect(interpolate('${TOKENS?x}', { TOKENS: '' })).toBe('');
  });
});

describe('rewriteServiceUrl', () => {
  const services = ['postgres', 'redis', 'api'];

  it('points URLs at compose services to their endpoints here, keeping credentials and path', () => {
    expect(rewriteServiceUrl('postgres://u:p@postgres:5432/db?x=1', services)).toBe(
      'postgres://u:p@127.0.0.1:5432/db?x=1',
    );
    expect(
      rewriteServiceUrl('redis://redis:6379', services, { redis: { host: '::1', port: 6380 } }),
    ).toBe('redis://[::1]:6380');
    expect(rewriteServiceUrl('redis://redis', services, { redis: { port: 7000 } })).toBe(
      'redis://127.0.0.1:7000',
    );
  });

  it('leaves other values alone', () => {
    expect(rewriteServiceUrl('postgres://db.example.com:5432/x', services)).toBe(
      'postgres://db.example.com:5432/x',
    );
    expect(rewriteServiceUrl('redis', services)).toBe('redis');
    expect(rewriteServiceUrl('0.0.0.0', services)).toBe('0.0.0.0');
  });
});

describe('Dockerfile parsing', () => {
  const text = [
    '# syntax=docker/dockerfile:1',
    'ARG BASE=node:20',
    'FROM --platform=$BUILDPLATFORM node:20-bookworm-slim AS build',
    'RUN apt-get update \\',
    '  # a comment inside a continuation',
    ' && apt-get install -y g++',
    'from build as test',
    'RUN true',
    'FROM node:20-bookworm-slim',
    'ENV A=1 B="two words" \\',
    '    C=3',
    'ENV LEGACY some value',
    'CMD ["serve"]',
  ].join('\n');

  it('splits stages, joins continuations and skips comments', () => {
    const stages = parseDockerfile(text);
    expect(stages.map((s) => [s.from, s.name])).toEqual([
      ['node:20-bookworm-slim', 'build'],
      ['build', 'test'],
      ['node:20-bookworm-slim', null],
    ]);
    const run = stages[0]!.instructions[1]!;
    expect(run).toEqual({
      keyword: 'RUN',
      args: 'apt-get update && apt-get install -y g++',
      line: 4,
    });
    expect(stageEnv(stages[2]!)).toEqual({ A: '1', B: 'two words', C: '3', LEGACY: 'some value' });
  });

  it('tells exec form from shell form', () => {
    expect(execForm('["node", "-e", "x"]')).toEqual(['node', '-e', 'x']);
    expect(execForm('node -e x')).toBeNull();
    expect(execForm('[node]')).toBeNull();
    expect(execForm('[1]')).toBeNull();
  });

  it('refuses an instruction before FROM', () => {
    expect(() => parseDockerfile('RUN true\nFROM node:20')).toThrow(/line 1: RUN before FROM/);
  });
});

describe('compose helpers', () => {
  it('reads environment maps and lists, passing bare names through from the host', () => {
    expect(serviceEnvironment({ environment: ['A=1', 'B=x=y', 'C'] }, { C: 'host' })).toEqual({
      A: '1',
      B: 'x=y',
      C: 'host',
    });
    expect(serviceEnvironment({ environment: { A: 1, B: true, C: null } }, {})).toEqual({
      A: '1',
      B: 'true',
    });
  });

  it('maps published ports to container ports', () => {
    const ports = publishedPorts({
      ports: ['8080:7070', '127.0.0.1:9000:9090/tcp', '3000', { target: 5, published: '6' }],
    });
    expect([...ports]).toEqual([
      [7070, 8080],
      [9090, 9000],
      [5, 6],
    ]);
  });

  it('parses compose durations', () => {
    expect(parseDuration('30s')).toBe(30);
    expect(parseDuration('1m30s')).toBe(90);
    expect(parseDuration('1500ms')).toBe(1.5);
    expect(() => parseDuration('30')).toThrow(/not a compose duration/);
  });
});

describe('composeTopology (the repository docker-compose.yml)', () => {
  it('gives the API node and two workers as processes, postgres and redis as backing services', () => {
    const topology = composeTopology({ vars });
    expect(topology.backing.sort()).toEqual(['postgres', 'redis']);
    expect(topology.processes.map((p) => [p.service, p.replicas])).toEqual([
      ['api', 1],
      ['worker', 2],
    ]);

    const api = topology.process('api');
    expect(api.args).toEqual(['serve', '--no-worker']);
    expect(api.portEnv).toBe('PATCHBAY_PORT');
    expect(api.port).toBe(7070);
    expect(api.publishedPort).toBe(7070);
    expect(api.dependsOn).toEqual({ postgres: 'service_healthy', redis: 'service_healthy' });

    const worker = topology.process('worker');
    expect(worker.args[0]).toBe('worker');
    expect(worker.portEnv).toBe('PATCHBAY_WORKER_HEALTH_PORT');
    expect(worker.port).toBe(Number(worker.env.PATCHBAY_WORKER_HEALTH_PORT));
    expect(worker.publishedPort).toBeNull();
    expect(worker.stopGraceSeconds).toBeGreaterThan(0);
    // One data volume for every Patchbay process (clones, worktrees, diffs).
    expect(api.dataVolume).toBe('patchbay-data');
    expect(worker.dataVolume).toBe('patchbay-data');
    expect(() => topology.process('postgres')).toThrow(/no Patchbay service postgres/);
  });

  it('rewrites container hostnames to this machine and keeps the rest of the environment', () => {
    const topology = composeTopology({ vars, endpoints: { redis: { port: 6390 } } });
    for (const spec of topology.processes) {
      expect(spec.env.PATCHBAY_DATABASE_URL).toBe('postgres://patchbay:pw@127.0.0.1:5432/patchbay');
      expect(spec.env.PATCHBAY_QUEUE_URL).toBe('redis://127.0.0.1:6390');
      expect(spec.env.PATCHBAY_API_TOKENS).toBe('tok-a,tok-b');
      // From the image's ENV, since the service does not set it.
      expect(spec.env.PATCHBAY_DATA_DIR).toBe('/data');
    }
  });

  it('fails like compose when the tokens are not given', () => {
    expect(() => composeTopology({ vars: { POSTGRES_PASSWORD: 'pw' } })).toThrow(
      /required variable PATCHBAY_API_TOKENS is missing a value: set PATCHBAY_API_TOKENS/,
    );
  });

  it('gives each instance its own port and data dir, then the extra settings', () => {
    const worker = composeTopology({ vars }).process('worker');
    const env = instanceEnv(worker, {
      port: 40001,
      dataDir: '/tmp/w1',
      extra: { PATCHBAY_QUEUE_PREFIX: 'e2e-1', PATCHBAY_HOST: '127.0.0.1' },
    });
    expect(env).toMatchObject({
      PATCHBAY_WORKER_HEALTH_PORT: '40001',
      PATCHBAY_DATA_DIR: '/tmp/w1',
      PATCHBAY_QUEUE_PREFIX: 'e2e-1',
      PATCHBAY_HOST: '127.0.0.1',
    });
    expect(worker.env.PATCHBAY_DATA_DIR).toBe('/data'); // the spec itself is untouched
  });

  it('falls back to the image CMD and one replica', () => {
    const file = composeFile(
      [
        'services:',
        '  db:',
        '    image: postgres:16',
        '  one:',
        '    build: .',
        '    environment:',
        '      - PATCHBAY_DATABASE_URL=postgres://u@db/x',
      ].join('\n'),
    );
    const topology = composeTopology({ file, vars: {} });
    expect(topology.backing).toEqual(['db']);
    const one = topology.process('one');
    expect(one).toMatchObject({
      replicas: 1,
      args: ['serve'],
      port: 7070,
      publishedPort: null,
      dataVolume: null,
    });
    expect(one.env.PATCHBAY_DATABASE_URL).toBe('postgres://u@127.0.0.1/x');
  });
});
