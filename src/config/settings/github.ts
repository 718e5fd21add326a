/**
 * GitHub: how Patchbay authenticates (a token, or an App whose installation tokens it mints),
 * where the API and git live (GitHub Enterprise, tests), and what triggers runs from webhooks.
 * See docs/github.md.
 */
import { z } from 'zod';
import { list, positiveInt, durationMs, setting } from './spec.js';

const baseUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

export const githubSettings = {
  githubToken: setting({
    key: 'githubToken',
    env: 'PATCHBAY_GITHUB_TOKEN',
    schema: z.string().min(1).optional(),
    defaultText: '(unset)',
    description:
      'A GitHub token (fine-grained: contents and pull requests read/write, issues read/write) used to push run branches and open pull requests. Not needed with a GitHub App.',
    secret: true,
  }),
  githubAppId: setting({
    key: 'githubAppId',
    env: 'PATCHBAY_GITHUB_APP_ID',
    schema: positiveInt.optional(),
    defaultText: '(unset)',
    description:
      'GitHub App id. With PATCHBAY_GITHUB_APP_PRIVATE_KEY_FILE, Patchbay acts as the App: installation tokens are minted per repository and cached until shortly before they expire.',
  }),
  githubAppPrivateKeyFile: setting({
    key: 'githubAppPrivateKeyFile',
    env: 'PATCHBAY_GITHUB_APP_PRIVATE_KEY_FILE',
    schema: z.string().min(1).optional(),
    defaultText: '(unset)',
    description: "Path of the GitHub App's private key (PEM), read at start.",
  }),
  githubWebhookSecret: setting({
    key: 'githubWebhookSecret',
    env: 'PATCHBAY_GITHUB_WEBHOOK_SECRET',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: POST /v1/webhooks/github refuses every delivery)',
    description:
      'Secret of the GitHub webhook (App or repository): deliveries without a valid `X-Hub-Signature-256` are refused with 401.',
    secret: true,
  }),
  githubApiUrl: setting({
    key: 'githubApiUrl',
    env: 'PATCHBAY_GITHUB_API_URL',
    schema: baseUrl.default('https://api.github.com'),
    defaultText: 'https://api.github.com',
    description:
      'GitHub REST base URL (GitHub Enterprise: `https://<host>/api/v3`). GraphQL is found beside it.',
  }),
  githubUrl: setting({
    key: 'githubUrl',
    env: 'PATCHBAY_GITHUB_URL',
    schema: baseUrl.default('https://github.com'),
    defaultText: 'https://github.com',
    description:
      'Where GitHub repositories are cloned from and pushed to (`<url>/<owner>/<name>.git`); GitHub Enterprise: `https://<host>`.',
  }),
  githubTriggerPhrase: setting({
    key: 'githubTriggerPhrase',
    env: 'PATCHBAY_GITHUB_TRIGGER_PHRASE',
    schema: z.string().min(2).max(100).default('@patchbay'),
    defaultText: '@patchbay',
    description:
      'A comment containing this phrase (as a word) on an issue or on a Patchbay pull request starts a run; the rest of the comment is the request.',
  }),
  githubTriggerLabels: setting({
    key: 'githubTriggerLabels',
    env: 'PATCHBAY_GITHUB_TRIGGER_LABELS',
    schema: list.default(['patchbay']),
    defaultText: 'patchbay',
    description:
      'An issue opened with, or labelled with, one of these labels starts a run on its repository.',
  }),
  githubAgent: setting({
    key: 'githubAgent',
    env: 'PATCHBAY_GITHUB_AGENT',
    schema: z.enum(['claude', 'cursor', 'codex', 'gemini']).default('claude'),
    defaultText: 'claude',
    description: 'The agent of runs started from GitHub (issues, comments, reviews).',
  }),
  githubDeliver: setting({
    key: 'githubDeliver',
    env: 'PATCHBAY_GITHUB_DELIVER',
    schema: z.enum(['branch', 'draft_pr', 'pr', 'ready_pr']).default('draft_pr'),
    defaultText: 'draft_pr',
    description: 'What runs started from GitHub deliver (see `deliver` on a run).',
  }),
  githubPrLabels: setting({
    key: 'githubPrLabels',
    env: 'PATCHBAY_GITHUB_PR_LABELS',
    schema: list.default([]),
    defaultText: '(none)',
    description: 'Labels put on the pull requests Patchbay opens.',
  }),
  githubDeliveryMaxAttempts: setting({
    key: 'githubDeliveryMaxAttempts',
    env: 'PATCHBAY_GITHUB_DELIVERY_MAX_ATTEMPTS',
    schema: positiveInt.default(8),
    defaultText: '8',
    description:
      'Tries of a delivery (push, pull request, status comment) before it is given up; the branch stays in the local repository either way.',
  }),
  githubDeliveryBackoffMs: setting({
    key: 'githubDeliveryBackoffMs',
    env: 'PATCHBAY_GITHUB_DELIVERY_BACKOFF_MS',
    schema: durationMs.default(5000),
    defaultText: '5000',
    description: 'Wait before the second try of a delivery; doubled for each later try.',
  }),
  githubWebhookRetryMs: setting({
    key: 'githubWebhookRetryMs',
    env: 'PATCHBAY_GITHUB_WEBHOOK_RETRY_MS',
    schema: durationMs.default(30_000),
    defaultText: '30000',
    description:
      'How often a server looks for acknowledged GitHub deliveries that were not handled (its handling failed, or the process that acknowledged one died) and handles them again; a delivery is given up after 5 tries.',
  }),
  webhookDeliveryRetentionMs: setting({
    key: 'webhookDeliveryRetentionMs',
    env: 'PATCHBAY_WEBHOOK_DELIVERY_RETENTION_MS',
    schema: durationMs.default(7 * 24 * 3_600_000),
    defaultText: '604800000',
    description:
      "How long the id of a handled inbound webhook delivery (GitHub `X-GitHub-Delivery`, a GitHub Action report's `webhook-id`) is kept to refuse a redelivery; older ones are deleted hourly. GitHub redelivers up to 3 days back, so keep it above that.",
  }),
};
