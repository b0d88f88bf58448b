import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { openApiDocument } from '../../src/api/openapi.js';
import { V1_ROUTES } from '../../src/api/v1/surface.js';
import { REPO } from '../helpers.js';
import { tempDir } from '../../support/temp-dir.js';

const doc = openApiDocument(V1_ROUTES, '0.0.0-test');

type Schema = {
  type?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  contentEncoding?: string;
  contentMediaType?: string;
  additionalProperties?: unknown;
  $ref?: string;
};

test('the OpenAPI document passes Redocly lint with no error and no warning', () => {
  const dir = tempDir('veil-openapi-');
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(doc));
  const r = spawnSync(join(REPO, 'node_modules/.bin/redocly'), ['lint', file, '--format=json'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const report = JSON.parse(r.stdout) as {
    totals: { errors: number; warnings: number };
    problems: { message: string; location: { pointer: string }[] }[];
  };
  assert.deepEqual(
    report.problems.map((p) => `${p.location[0]?.pointer}: ${p.message}`),
    [],
  );
  assert.deepEqual(report.totals, { ...report.totals, errors: 0, warnings: 0 });
});

test('every list is typed, every image is a string (base64 in JSON, a file in multipart), multipart bodies are multipart', () => {
  const untypedLists: string[] = [];
  const walk = (s: Schema | undefined, at: string) => {
    if (!s) return;
    if (s.type === 'array') {
      const items = s.items ?? {};
      if (!items.type && !items.$ref && !(items as { anyOf?: unknown }).anyOf) untypedLists.push(at);
      else if (items.type === 'object' && !items.properties) untypedLists.push(at);
      walk(items, `${at}[]`);
    }
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${at}.${k}`);
  };
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(
      ops as Record<
        string,
        {
          requestBody?: { content: Record<string, { schema: Schema }> };
          responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
        }
      >,
    )) {
      for (const [status, res] of Object.entries(op.responses))
        for (const c of Object.values(res.content ?? {})) walk(c.schema, `${method} ${path} ${status}`);
      const body = op.requestBody?.content;
      if (!body) continue;
      walk(body['application/json']?.schema, `${method} ${path} body`);
      const json = body['application/json']!.schema;
      for (const [k, v] of Object.entries(json.properties ?? {})) {
        if (/^(image|images|selfie|selfies|secondImage)$/.test(k)) {
          const one = v.type === 'array' ? v.items! : v;
          assert.equal(one.type, 'string', `${method} ${path} ${k}`);
          assert.equal(one.contentEncoding, 'base64', `${method} ${path} ${k}`);
          const mp: Schema | undefined = body['multipart/form-data']?.schema.properties?.[k];
          assert.ok(mp, `${method} ${path}: a photo route takes multipart`);
          assert.equal((mp.type === 'array' ? mp.items! : mp).contentMediaType, 'application/octet-stream');
        }
      }
    }
  assert.deepEqual(untypedLists, []);
});

test('a client generated with openapi-typescript compiles, with no unknown image or list types', async () => {
  const ts = astToString(await openapiTS(doc as never));
  const dir = tempDir('veil-client-');
  writeFileSync(join(dir, 'api.d.ts'), ts);
  writeFileSync(
    join(dir, 'use.ts'),
    `import type { paths } from './api.js';
type Identify = paths['/v1/identify']['post']['requestBody']['content']['application/json'];
const image: Identify['image'] = 'aGVsbG8=';
type Sightings = paths['/v1/subjects/{id}/sightings']['get']['responses']['200']['content']['application/json']['items'];
const box: Sightings[number]['box']['width'] = 1;
export const used = [image, box];
`,
  );
  const r = spawnSync(
    join(REPO, 'node_modules/.bin/tsc'),
    ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', join(dir, 'use.ts')],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(ts, /items: unknown\[\]|image\??: unknown/);
});
