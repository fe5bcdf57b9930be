/** The OpenAPI 3.1 document, generated from the route table and its zod schemas. */
import { z } from 'zod';
import type { Route } from './route.js';

/** `/users/:id/follow` → `/api/users/{id}/follow/` (the seed's form, trailing slash included). */
export function openApiPath(path: string): string {
  return `/api${path.replace(/:(\w+)/g, '{$1}')}/`.replace(/\/+$/, '/');
}

function schemaOf(type: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  try {
    return z.toJSONSchema(type, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return { type: 'object' };
  }
}

export function buildOpenApi(routes: Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'integer' } }));
    const query = r.query ? schemaOf(r.query) : null;
    const queryParams = query?.properties
      ? Object.entries(query.properties as Record<string, unknown>).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
      : [];
    const status = String(r.status ?? 200);
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method}_${r.path.replace(/[/:]+/g, '_').replace(/^_|_$/g, '')}`,
      parameters: [...params, ...queryParams],
      responses: {
        [status]: { description: r.response ?? (status === '204' ? 'No content' : 'Success') },
        ...(r.body ? { '400': { $ref: '#/components/responses/ValidationError' } } : {}),
        ...(r.public ? {} : { '401': { $ref: '#/components/responses/Unauthorized' } }),
        ...(r.path.includes(':') ? { '404': { $ref: '#/components/responses/NotFound' } } : {}),
      },
      ...(r.public ? { security: [] } : {}),
    };
    if (r.body) {
      const json = schemaOf(r.body);
      const content: Record<string, unknown> = { 'application/json': { schema: json } };
      if (r.file) {
        const props = { ...((json.properties as Record<string, unknown>) ?? {}), [r.file]: { type: 'string', format: 'binary' } };
        content['multipart/form-data'] = { schema: { ...json, properties: props } };
      }
      op.requestBody = { required: true, content };
    }
    (paths[openApiPath(r.path)] ??= {})[r.method] = op;
  }
  const detail = { type: 'object', properties: { detail: { type: 'string' } } };
  return {
    openapi: '3.1.0',
    info: { title: 'jvai API', version, description: 'REST API of jvai. Realtime: /ws/messages/{recipient_id}/, /ws/group/{group_id}/, /ws/status/, /ws/calls/ and socket.io.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      responses: {
        ValidationError: { description: 'Invalid input: {"field": ["message"]}', content: { 'application/json': { schema: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } } } },
        Unauthorized: { description: 'Missing or invalid token', content: { 'application/json': { schema: detail } } },
        NotFound: { description: 'No such object, or not yours to see', content: { 'application/json': { schema: detail } } },
      },
    },
  };
}
