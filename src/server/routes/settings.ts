import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { effectiveSettings } from '../../config/index.js';
import { ErrorBody, SettingList } from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';

/** The configuration in effect, read-only, secrets masked (the dashboard's Settings page). */
export function settingsRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  // Computed once: the configuration is resolved at start and never changes while serving.
  const body = { settings: effectiveSettings(deps.config) };
  return async (app) => {
    app.get(
      '/v1/settings',
      {
        schema: {
          tags: ['settings'],
          summary: 'The effective configuration of this server, secrets masked',
          description:
            'Every setting of docs/config.md with the value in effect. A secret setting shows `********` when set (null when not); a password or token inside another value (a URL) is replaced by `********` too. Changing settings is done in the environment or config file, and needs a restart.',
          response: { 200: SettingList, 401: ErrorBody },
        },
      },
      async () => body,
    );
  };
}
