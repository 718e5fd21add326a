// The Patchbay GitHub Action's last step: tells the Patchbay server how the job's run ended.
// Plain Node (no dependencies: it runs before or without `npm install`). The report is signed
// with the Standard Webhooks scheme under the key the server's dispatch handed out
// (client_payload.report_secret): webhook-id is the same for a retry of one job attempt, so the
// server records it once; a re-run of the job is a new attempt and a new report.
//
// Environment: REPORT_URL, REPORT_SECRET, RUN_ID, STATUS, RESULT (the final run as JSON, a
// file), BRANCH, PULL_REQUEST_URL, and GitHub's GITHUB_SERVER_URL, GITHUB_REPOSITORY,
// GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT. Exits 1 when the server did not take the report.
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/* global fetch, AbortSignal -- Node 20's, as the job's setup-node gives */

const env = process.env;

/** The HMAC key of a secret: the bytes after `whsec_` (base64), else the secret's own bytes. */
function signingKey(secret) {
  const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : null;
  if (b64 && /^[A-Za-z0-9+/]+={0,2}$/.test(b64) && b64.length % 4 === 0) {
    return Buffer.from(b64, 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

/** The three Standard Webhooks headers of `body`. */
function signedHeaders(secret, id, body, timestampSec = Math.floor(Date.now() / 1000)) {
  const timestamp = String(timestampSec);
  const signature = createHmac('sha256', signingKey(secret))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
  };
}

function readRun(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

async function main() {
  if (!env.REPORT_URL) return 0;
  if (!env.REPORT_SECRET || !env.RUN_ID) {
    console.error('report: REPORT_SECRET and RUN_ID are needed to report to Patchbay');
    return 1;
  }
  const run = env.RESULT ? readRun(env.RESULT) : null;
  const status = env.STATUS || run?.run?.status || run?.status || 'failed';
  const logsUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : null;
  const body = JSON.stringify({
    runId: env.RUN_ID,
    status,
    branch: env.BRANCH || null,
    pullRequestUrl: env.PULL_REQUEST_URL || null,
    logsUrl,
  });
  const id = `${env.RUN_ID}-${env.GITHUB_RUN_ID || 'local'}-${env.GITHUB_RUN_ATTEMPT || '1'}`;
  // Three tries for a server that is briefly away; a refusal (4xx) is final.
  for (let attempt = 1; ; attempt += 1) {
    let answer;
    try {
      const res = await fetch(env.REPORT_URL, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signedHeaders(env.REPORT_SECRET, id, body),
        },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      answer = { status: res.status, text: await res.text() };
    } catch (err) {
      answer = { status: 0, text: err.message };
    }
    if (answer.status >= 200 && answer.status < 300) {
      console.log(`report: Patchbay recorded ${status} for ${env.RUN_ID}`);
      return 0;
    }
    const final = (answer.status >= 400 && answer.status < 500) || attempt >= 3;
    console.error(
      `report: Patchbay answered ${answer.status || 'nothing'}: ${answer.text.slice(0, 300)}`,
    );
    if (final) return 1;
    await sleep(2000 * attempt);
  }
}

process.exitCode = await main();
