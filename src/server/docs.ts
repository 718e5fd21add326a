import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { OpenAPIV3 } from 'openapi-types';

/** Response headers of the UI's pages and assets to pass on (the server sets its own others). */
const FORWARDED_HEADERS = ['content-type', 'location'] as const;

/**
 * The API docs under /docs. The OpenAPI document (/docs/json, /docs/yaml) comes straight from
 * @fastify/swagger. The Swagger UI (the page and its assets) is @fastify/swagger-ui in a Fastify
 * instance of its own, built by the first request for it: registered at boot, the UI plugin
 * loads @fastify/static and a second copy of yaml (~110 CommonJS modules, 2 MB of heap,
 * 2.6 MB resident) into every server, browsed or not, and an idle server's size is what an
 * output flood starts from (bench/flood.ts). The server's own hooks (auth, security headers,
 * the docs CSP) apply to these routes as to any other.
 */
export function registerDocs(app: FastifyInstance): void {
  app.get('/docs/json', { schema: { hide: true } }, () => app.swagger());
  app.get('/docs/yaml', { schema: { hide: true } }, (_request, reply) =>
    reply.type('application/x-yaml').send(app.swagger({ yaml: true })),
  );

  let ui: Promise<FastifyInstance> | undefined;
  const serveUi = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    ui ??= buildUi(app).catch((err: unknown) => {
      ui = undefined; // a later request tries again
      throw err;
    });
    const res = await (
      await ui
    ).inject({
      method: request.method === 'HEAD' ? 'HEAD' : 'GET',
      url: request.url,
    });
    if (res.statusCode === 404) return reply.callNotFound();
    reply.code(res.statusCode);
    for (const name of FORWARDED_HEADERS) {
      const value = res.headers[name];
      if (value !== undefined) reply.header(name, value);
    }
    return reply.send(res.rawPayload.length > 0 ? res.rawPayload : undefined);
  };
  app.get('/docs', { schema: { hide: true } }, serveUi);
  app.get('/docs/*', { schema: { hide: true } }, serveUi);
}

async function buildUi(app: FastifyInstance): Promise<FastifyInstance> {
  const { default: fastifySwaggerUi } = await import('@fastify/swagger-ui');
  const ui = Fastify();
  // The UI plugin requires @fastify/swagger: here it holds the server's finished document.
  await ui.register(fastifySwagger, {
    mode: 'static',
    specification: { document: app.swagger() as OpenAPIV3.Document },
  });
  await ui.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await ui.ready();
  return ui;
}
