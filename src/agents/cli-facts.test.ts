import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliFacts, compareVersions, parseCliVersion } from './cli-facts.js';

describe('cliFacts', () => {
  it('names the versions test/agents-real pins, so bumping one without the other fails', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../test/agents-real/package.json', import.meta.url), 'utf8'),
    ) as { dependencies: Record<string, string> };
    const table = Object.fromEntries(
      Object.values(cliFacts).flatMap((f) =>
        f.tested ? [[f.tested.package, f.tested.version]] : [],
      ),
    );
    expect(table).toEqual(pkg.dependencies);
  });

  it('finds login files under the HOME runs get, or the config dir a variable names', () => {
    expect(cliFacts.claude.loginFiles({ HOME: '/h' })).toEqual(['/h/.claude/.credentials.json']);
    expect(cliFacts.claude.loginFiles({ HOME: '/h', CLAUDE_CONFIG_DIR: '/c' })).toEqual([
      '/c/.credentials.json',
    ]);
    expect(cliFacts.codex.loginFiles({ HOME: '/h', CODEX_HOME: '/x' })).toEqual(['/x/auth.json']);
    expect(cliFacts.gemini.loginFiles({ HOME: '/h' })).toEqual(['/h/.gemini/oauth_creds.json']);
    expect(cliFacts.cursor.loginFiles({ HOME: '/h' })).toEqual([
      '/h/.config/cursor/auth.json',
      '/h/.cursor/auth.json',
    ]);
    // Runs without HOME (not on the allow-list) have no login files.
    expect(cliFacts.gemini.loginFiles({})).toEqual([]);
  });
});

describe('parseCliVersion', () => {
  it.each([
    ['2.1.332 (Claude Code)\n', '2.1.332'],
    ['codex-cli 0.171.0\n', '0.171.0'],
    ['0.61.0\n', '0.61.0'],
    ['Warning: something\n0.62.0-preview.1\n', '0.62.0-preview.1'],
    ['2025.09.18-7ae6800\n', '2025.09.18-7ae6800'],
  ])('reads %j', (output, version) => {
    expect(parseCliVersion(output)).toBe(version);
  });

  it('is null for output without a version', () => {
    expect(parseCliVersion('started\n')).toBeNull();
    expect(parseCliVersion('')).toBeNull();
  });
});

describe('compareVersions', () => {
  it('orders by number, not text, and a pre-release before its release', () => {
    expect(compareVersions('0.171.0', '0.171.0')).toBe(0);
    expect(compareVersions('0.99.0', '0.171.0')).toBeLessThan(0);
    expect(compareVersions('2.1.400', '2.1.332')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0', '0.999.999')).toBeGreaterThan(0);
    expect(compareVersions('0.61.0-preview.1', '0.61.0')).toBeLessThan(0);
    expect(compareVersions('0.61.0', '0.61.0-preview.1')).toBeGreaterThan(0);
  });
});
