import { describe, expect, it } from 'vitest';
import { parseDsn } from './error-reporter.js';
import { REDACTED, scrub, scrubText } from './redact.js';

describe('scrub', () => {
  it('blanks the values under the logger’s redacted keys, at any depth and any case', () => {
    const out = scrub({
      Authorization: 'Bearer abc',
      request: { headers: { cookie: 'sid=1', 'x-api-key': 'k1', accept: 'json' } },
      run: { env: { AWS_SECRET_ACCESS_KEY: 'xyz' }, id: 'run_1' },
      provider: { apiKey: 'sk-1', password: 'hunter2', nested: [{ token: 't' }] },
    }) as Record<string, unknown>;
    const text = JSON.stringify(out);
    for (const secret of ['abc', 'sid=1', 'k1', 'xyz', 'sk-1', 'hunter2', '"t"']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('run_1');
    expect(text).toContain('"accept":"json"');
  });

  it('blanks credentials in free text and every known secret value', () => {
    const text = scrubText(
      'GET https://h/cb?token=abc123&x=1&sig=deadbeef failed; Bearer eyJhbGc.x.y; postgres://app:pw0rd@db/x; key ghp_knownsecret',
      ['ghp_knownsecret', 'ab'],
    );
    expect(text).toBe(
      `GET https://h/cb?token=${REDACTED}&x=1&sig=${REDACTED} failed; Bearer ${REDACTED}; postgres://${REDACTED}@db/x; key ${REDACTED}`,
    );
  });
});

describe('Telegram Bot API URLs', () => {
  it('lose the bot token they carry in their path', () => {
    expect(scrubText('POST https://api.telegram.org/bot123456:AAE-x_y/sendMessage failed')).toBe(
      `POST https://api.telegram.org/bot${REDACTED}/sendMessage failed`,
    );
  });
});

describe('parseDsn', () => {
  it('derives the envelope URL and key, keeping a path prefix', () => {
    expect(parseDsn('https://pub@o1.ingest.example.com/42')).toEqual({
      envelopeUrl: 'https://o1.ingest.example.com/api/42/envelope/',
      publicKey: 'pub',
    });
    expect(parseDsn('http://pub:sec@127.0.0.1:9000/sentry/7').envelopeUrl).toBe(
      'http://127.0.0.1:9000/sentry/api/7/envelope/',
    );
    expect(() => parseDsn('https://host/42')).toThrow(/DSN/);
  });
});
