import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createSecretBox,
  openEnv,
  plainSecretBox,
  readOrCreateKeyFile,
  sealEnv,
  secretBoxFor,
  UNREADABLE_SECRET,
} from './secret-box.js';

describe('secret box', () => {
  const key = Buffer.alloc(32, 7);

  it('seals each value so that it opens only with the same key', () => {
    const box = createSecretBox(key);
    const sealed = sealEnv(box, { TOKEN: 'hunter2', EMPTY: '' });
    expect(Object.keys(sealed)).toEqual(['TOKEN', 'EMPTY']);
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(sealed.TOKEN).not.toBe(sealEnv(box, { TOKEN: 'hunter2' }).TOKEN); // fresh IV each time
    expect(openEnv(box, sealed)).toEqual({ TOKEN: 'hunter2', EMPTY: '' });
    const other = createSecretBox(Buffer.alloc(32, 8));
    expect(openEnv(other, sealed).TOKEN).toBe(UNREADABLE_SECRET);
    expect(plainSecretBox.open(sealed.TOKEN!)).toBe(UNREADABLE_SECRET);
  });

  it('reads values stored before sealing existed as they are', () => {
    expect(createSecretBox(key).open('plain value')).toBe('plain value');
  });

  it('refuses a tampered value', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('hunter2');
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(box.open(tampered)).toBe(UNREADABLE_SECRET);
  });

  it('keeps its key outside the database: the setting, or a 0600 file in the data dir', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pb-secrets-'));
    const a = secretBoxFor({ secretsKey: undefined, dataDir, databaseUrl: join(dataDir, 'x.db') });
    const b = secretBoxFor({ secretsKey: undefined, dataDir, databaseUrl: join(dataDir, 'x.db') });
    expect(b.open(a.seal('v'))).toBe('v');
    expect(statSync(join(dataDir, 'secrets.key')).mode & 0o777).toBe(0o600);
    expect(readOrCreateKeyFile(join(dataDir, 'secrets.key'))).toHaveLength(32);
    const shared = { secretsKey: 'a shared key of enough length', dataDir };
    const pg = secretBoxFor({ ...shared, databaseUrl: 'postgres://x/y' });
    expect(pg.sealing).toBe(true);
    expect(secretBoxFor({ ...shared, databaseUrl: 'sqlite:x' }).open(pg.seal('v'))).toBe('v');
    const unkeyed = secretBoxFor({ secretsKey: undefined, dataDir, databaseUrl: 'postgres://x/y' });
    expect(unkeyed.sealing).toBe(false);
  });
});
