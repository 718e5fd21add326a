import { describe, expect, it } from 'vitest';
import { isPatchbayError } from '../../contracts/index.js';
import { loadConfig, secretValues } from '../load.js';

const bot = {
  token: '123456789:AAE-token_value',
  webhookSecret: 'a-webhook-secret-of-some-length',
  allowedChatIds: [42, '-1001234567890'],
};
const load = (bots: unknown) =>
  loadConfig({
    env: { PATCHBAY_TELEGRAM_BOTS: typeof bots === 'string' ? bots : JSON.stringify(bots) },
    envOnly: true,
  });

function problems(bots: unknown): string {
  try {
    load(bots);
  } catch (err) {
    expect(isPatchbayError(err) && err.code).toBe('CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error('loadConfig did not throw');
}

describe('Telegram bot settings', () => {
  it('reads bots from JSON with defaults, chat ids as text', () => {
    const config = load({ main: bot });
    expect(config.telegramBots.main).toEqual({
      ...bot,
      allowedChatIds: ['42', '-1001234567890'],
      agent: 'claude',
    });
    expect(config.telegramApiUrl).toBe('https://api.telegram.org');
    expect(loadConfig({ env: {}, envOnly: true }).telegramBots).toEqual({});
  });

  it('refuses a malformed token, a short secret, no chat, a bad name or not JSON', () => {
    expect(problems({ main: { ...bot, token: 'nope' } })).toMatch(/BotFather/);
    expect(problems({ main: { ...bot, webhookSecret: 'short' } })).toMatch(/16 to 256/);
    expect(problems({ main: { ...bot, allowedChatIds: [] } })).toMatch(/at least one chat/);
    expect(problems({ 'no spaces': bot })).toMatch(/bot names/);
    expect(problems('{not json')).toMatch(/PATCHBAY_TELEGRAM_BOTS/);
  });

  it('counts the token and the webhook secret as secrets, and nothing else of a bot', () => {
    const secrets = secretValues(load({ main: bot }));
    expect(secrets).toEqual(expect.arrayContaining([bot.token, bot.webhookSecret]));
    expect(secrets).not.toContain('claude');
    expect(secrets).not.toContain('42');
  });
});
