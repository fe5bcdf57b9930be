/** The OpenAPI 3.1 document, generated from the route table and its zod schemas. */
import { z } from 'zod';
import type { Route } from './route.js';
import { responseSchemas } from './responses.js';

/** `/users/:id/follow` → `/api/users/{id}/follow/` (the form the API serves, trailing slash included). */
export function openApiPath(path: string): string {
  return `/api${path.replace(/:(\w+)/g, '{$1}')}/`.replace(/\/+$/, '/');
}

const COMPONENT = '#/components/schemas/';

/** A request schema as JSON Schema; one that cannot be represented is a bug in the route table. */
function schemaOf(route: Route, part: 'body' | 'query', type: z.ZodType): Record<string, unknown> {
  try {
    return z.toJSONSchema(type, { io: 'input' });
  } catch (err) {
    throw new Error(`${routeName(route)}: its ${part} schema has no JSON Schema form: ${(err as Error).message}`);
  }
}

const routeName = (r: Route) => `${r.method.toUpperCase()} ${openApiPath(r.path)}`;

/** The named response schemas (src/http/responses.ts), as `components.schemas`. */
function responseComponents(): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(responseSchemas, { io: 'output', uri: (id) => COMPONENT + id });
  // Each is emitted as a standalone document; within this one, refs resolve against the root.
  return Object.fromEntries(Object.entries(schemas).map(([name, { $schema, $id, ...schema }]) => [name, schema]));
}

/** The success response: its declared body by reference, or none for 204. */
function successResponse(r: Route, status: string): Record<string, unknown> {
  if (status === '204') {
    if (r.response) throw new Error(`${routeName(r)}: a 204 sends no body, yet declares a response schema`);
    return { description: 'No content' };
  }
  const named = r.response && responseSchemas.get(r.response);
  if (!named) throw new Error(`${routeName(r)}: no response schema named in src/http/responses.ts`);
  return { description: named.id, content: { [named.mediaType ?? 'application/json']: { schema: { $ref: COMPONENT + named.id } } } };
}

export function buildOpenApi(routes: Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'integer' } }));
    const query = r.query ? schemaOf(r, 'query', r.query) : null;
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
        [status]: successResponse(r, status),
        ...(r.body ? { '400': { $ref: '#/components/responses/ValidationError' } } : {}),
        ...(r.public ? {} : { '401': { $ref: '#/components/responses/Unauthorized' } }),
        ...(r.path.includes(':') ? { '404': { $ref: '#/components/responses/NotFound' } } : {}),
      },
      ...(r.public ? { security: [] } : {}),
    };
    if (r.body) {
      const json = schemaOf(r, 'body', r.body);
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
      schemas: responseComponents(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      responses: {
        ValidationError: { description: 'Invalid input: {"field": ["message"]}', content: { 'application/json': { schema: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } } } },
        Unauthorized: { description: 'Missing or invalid token', content: { 'application/json': { schema: detail } } },
        NotFound: { description: 'No such object, or not yours to see', content: { 'application/json': { schema: detail } } },
      },
    },
  };
}
