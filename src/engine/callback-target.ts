import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { PatchbayError } from '../contracts/index.js';
import {
  AddressRefusedError,
  guardedLookup,
  resolvePublicAddresses,
  type Resolver,
} from '../workspaces/index.js';

/**
 * Checks a run's callbackUrl when the run is created: an absolute `http://` or `https://` URL
 * (plain http stays allowed: many webhook receivers use it, and the body is signed), without
 * credentials (they would be stored and shown with the run), whose host reaches only public
 * addresses: the same outbound address policy as repository URLs. `allowPrivate`
 * (PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS) lifts the address check.
 *
 * @throws PatchbayError CALLBACK_URL_INVALID, CALLBACK_URL_FORBIDDEN
 */
export async function assertSafeCallbackUrl(
  raw: string,
  options: { allowPrivate?: boolean; resolve?: Resolver } = {},
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PatchbayError('CALLBACK_URL_INVALID', undefined, { callbackUrl: raw });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PatchbayError('CALLBACK_URL_INVALID', undefined, { callbackUrl: raw });
  }
  const refuse = (why: string): never => {
    throw new PatchbayError('CALLBACK_URL_FORBIDDEN', `refusing callback to ${url.host}: ${why}`, {
      host: url.host,
      reason: why,
    });
  };
  if (url.username || url.password) refuse('credentials in the URL are not accepted');
  if (options.allowPrivate) return url;
  try {
    await resolvePublicAddresses(url.hostname, options.resolve);
  } catch (err) {
    if (err instanceof AddressRefusedError) refuse(err.reason);
    throw err;
  }
  return url;
}

export interface CallbackRequest {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS: connect wherever the URL says. */
  allowPrivate: boolean;
}

/**
 * POSTs one callback attempt and resolves with the HTTP status (the answer's body is not
 * read). Redirects are never followed. Unless `allowPrivate`, it connects only where the
 * address policy allows: an IP literal is checked here, a name by the socket's own lookup,
 * which checks the very addresses it connects to (no window for DNS rebinding between the
 * check and the connection). Each attempt has its own connection (no pooled socket).
 *
 * @throws AddressRefusedError when the policy refuses the target: nothing was sent.
 */
export async function postCallback(raw: string, init: CallbackRequest): Promise<number> {
  const url = new URL(raw);
  if (!init.allowPrivate && isIP(url.hostname.replace(/^\[|\]$/g, ''))) {
    await resolvePublicAddresses(url.hostname); // a literal: checked, never resolved
  }
  const signal = AbortSignal.timeout(init.timeoutMs);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
        agent: false,
        signal,
        ...(init.allowPrivate ? {} : { lookup: guardedLookup }),
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      },
    );
    req.on('error', (err) =>
      reject(signal.aborted ? new Error(`no answer within ${init.timeoutMs} ms`) : err),
    );
    req.end(init.body);
  });
}
