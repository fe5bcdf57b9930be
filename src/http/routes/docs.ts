import crypto from 'node:crypto';
import { route, type Route } from '../route.js';
import { buildOpenApi } from '../openapi.js';
import { JsonText } from '../jsonText.js';
import { VERSION } from '../../version.js';
import * as responses from '../responses.js';

/** The document as JSON bytes with their ETag, made on first request: serializing and hashing it again cost 1.4–1.7 ms a request. */
let cached: JsonText | undefined;

export const docsRoutes: Route[] = [
  route({
    method: 'get',
    path: '/schema',
    summary: 'This OpenAPI document',
    tag: 'docs',
    response: responses.openApiDocument,
    public: true,
    async handler() {
      // Imported lazily: the route table includes this module.
      const { apiRoutes } = await import('./index.js');
      return (cached ??= JsonText.json(buildOpenApi(apiRoutes, VERSION)));
    },
  }),
  route({
    method: 'get',
    path: '/docs',
    summary: 'Human-readable API reference (renders /api/schema/)',
    tag: 'docs',
    response: responses.docsPage,
    public: true,
    async handler(ctx) {
      ctx.type = 'html';
      ctx.set('Content-Security-Policy', DOCS_POLICY);
      return DOCS_PAGE;
    },
  }),
];

const DOCS_STYLE = `body{font:14px system-ui;margin:2em;max-width:60em}code{background:#eee;padding:0 .3em}h2{margin-top:1.5em}`;

const DOCS_SCRIPT = `fetch('/api/schema/').then(r=>r.json()).then(d=>{const el=document.getElementById('ops');el.textContent='';
const byTag={};for(const[p,ops]of Object.entries(d.paths))for(const[m,o]of Object.entries(ops))(byTag[o.tags[0]]??=[]).push([m,p,o]);
for(const[t,list]of Object.entries(byTag)){const h=document.createElement('h2');h.textContent=t;el.append(h);
for(const[m,p,o]of list){const d=document.createElement('div');const c=document.createElement('code');c.textContent=m.toUpperCase()+' '+p;d.append(c,' '+o.summary);el.append(d);}}});`;

const DOCS_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>jvai API</title>
<style>${DOCS_STYLE}</style></head>
<body><h1>jvai API</h1><p>Machine-readable: <a href="/api/schema/">/api/schema/</a> (OpenAPI 3.1).</p><div id="ops">Loading…</div>
<script>${DOCS_SCRIPT}</script>
</body></html>`;

const sha256 = (text: string) => `'sha256-${crypto.createHash('sha256').update(text).digest('base64')}'`;

/** The page may run exactly its own inline script and style, and fetch the schema from here. */
const DOCS_POLICY = `default-src 'none'; script-src ${sha256(DOCS_SCRIPT)}; style-src ${sha256(DOCS_STYLE)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
