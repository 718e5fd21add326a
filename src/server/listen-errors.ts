import { PatchbayError } from '../contracts/index.js';

/** How the user picks another port or address for this listener, named in the advice. */
export interface ListenSettings {
  /** e.g. `--port` (serve) or `--health-port` (worker). */
  portFlag: string;
  /** e.g. `PATCHBAY_PORT` or `PATCHBAY_WORKER_HEALTH_PORT`. */
  portSetting: string;
}

/**
 * Turns a failed `listen()` into an error a person can act on: which address, why, and the flag
 * and setting that choose another. Errors other than the three a user causes pass unchanged.
 */
export function listenError(
  err: unknown,
  host: string,
  port: number,
  settings: ListenSettings,
): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const otherPort = `pick another port with ${settings.portFlag} <port> or ${settings.portSetting}`;
  const details = { host, port };
  switch (code) {
    case 'EADDRINUSE':
      return new PatchbayError(
        'SERVER_PORT_IN_USE',
        `port ${port} on ${host} is already in use (another Patchbay, or another program, listens on ${where}): stop it, or ${otherPort}`,
        details,
      );
    case 'EADDRNOTAVAIL':
      return new PatchbayError(
        'SERVER_ADDRESS_UNAVAILABLE',
        `cannot listen on ${where}: ${host} is not an address of this machine; pick one of its addresses with --host or PATCHBAY_HOST (127.0.0.1, the default, is always one)`,
        details,
      );
    case 'EACCES':
      return new PatchbayError(
        'SERVER_PORT_FORBIDDEN',
        `not allowed to listen on ${where}: ports below 1024 need privileges; ${otherPort} (1024 or above, e.g. 7070)`,
        details,
      );
    default:
      return err;
  }
}
