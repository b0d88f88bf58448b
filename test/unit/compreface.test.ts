import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import {
  COMPREFACE_MATCH,
  fromCompreFaceSimilarity,
  round5,
  toCompreFaceSimilarity,
} from '../../src/compreface/similarity.js';
import { aliasKey, flag, nameCandidates, num, plugins, unfoldQuery } from '../../src/compreface/lenient.js';
import { compreFaceSurface } from '../../src/api/compreface/surface.js';
import { compreFaceOpenApi } from '../../src/api/compreface/openapi.js';
import { REPO } from '../helpers.js';
import { tempDir } from '../../support/temp-dir.js';

test("a search's decision threshold maps to 0.60, monotonically, onto 0..1", () => {
  for (const t of [0.28, 0.35, 0.5, 0.72]) {
    assert.equal(toCompreFaceSimilarity(t, t), COMPREFACE_MATCH);
    assert.equal(toCompreFaceSimilarity(-1, t), 0);
    assert.equal(toCompreFaceSimilarity(1, t), 1);
    let last = -1;
    for (let s = -1; s <= 1; s += 0.001) {
      const v = toCompreFaceSimilarity(s, t);
      assert.ok(v >= last, `monotonic at ${s}`);
      assert.ok(s >= t === v >= COMPREFACE_MATCH, `the decision is kept at ${s} (threshold ${t})`);
      last = v;
    }
    assert.ok(Math.abs(fromCompreFaceSimilarity(toCompreFaceSimilarity(0.61, t), t) - 0.61) < 1e-4);
  }
  // Just below the threshold never rounds up to a match.
  assert.ok(toCompreFaceSimilarity(0.3499999, 0.35) < COMPREFACE_MATCH);
  assert.equal(round5(0.123456789), 0.12346);
  assert.equal(toCompreFaceSimilarity(Number.NaN, 0.3), 0);
});

test('sloppy inputs are read as their clients meant them', () => {
  assert.deepEqual(unfoldQuery({ subject: 'Ann?det_prob_threshold=0.8' }), {
    subject: 'Ann',
    det_prob_threshold: '0.8',
  });
  assert.deepEqual(unfoldQuery({ subject: 'What?', limit: '0' }), { subject: 'What?', limit: '0' });
  assert.deepEqual(unfoldQuery({ limit: '0?prediction_count=2&status=True' }), {
    limit: '0',
    prediction_count: '2',
    status: 'True',
  });
  assert.deepEqual(unfoldQuery({ subject: 'a?b=c' }), { subject: 'a?b=c' }, 'an unknown parameter is not split off');
  assert.deepEqual(unfoldQuery({ subject: ['x', 'y'] }), { subject: 'x' });
  for (const t of [true, 'true', 'True', 'TRUE', '1', 'yes']) assert.equal(flag(t), true, String(t));
  for (const f of [false, 'false', 'False', '0', '']) assert.equal(flag(f), false, String(f));
  assert.equal(flag('maybe'), undefined);
  assert.equal(flag(undefined), undefined);
  assert.equal(num('undefined'), undefined);
  assert.equal(num(' 0.8 '), 0.8);
  assert.equal(num('abc'), undefined);
  assert.deepEqual(
    [...plugins('undefined,landmarks, AGE,calculator,gender,mask,pose,nonsense')],
    ['landmarks', 'pose'],
  );
  assert.deepEqual([...plugins(undefined)], []);
  assert.deepEqual([...plugins('calculator')], [], 'embeddings are never served');
  assert.equal(aliasKey('  Ann Smith '), aliasKey('ann smith'));
  assert.equal(aliasKey('É'.normalize('NFD')), aliasKey('é'));
  assert.deepEqual(nameCandidates('Ann+Smith'), ['Ann+Smith', 'Ann Smith']);
  assert.deepEqual(nameCandidates('Ann'), ['Ann']);
});

test("errors take CompreFace's statuses and codes, with Veil's code beside them", () => {
  const req = (key?: string) => ({ headers: key ? { 'x-api-key': key } : {} }) as unknown as FastifyRequest;
  const r = (code: Parameters<typeof compreFaceSurface.render>[0], key = 'k') =>
    compreFaceSurface.render(code, 'm', req(key), {});
  assert.deepEqual(compreFaceSurface.render('UNAUTHENTICATED', 'x', req(), {}), {
    status: 401,
    type: 'application/json',
    body: { message: 'Missing header: x-api-key', code: 20, veil_code: 'UNAUTHENTICATED' },
  });
  assert.equal((r('UNAUTHENTICATED').body as { code: number }).code, 10);
  const expected: [Parameters<typeof r>[0], number, number][] = [
    ['NO_FACE', 400, 28],
    ['MULTIPLE_FACES', 400, 31],
    ['UNKNOWN_SUBJECT', 404, 42],
    ['CONFLICT', 400, 43],
    ['NOT_FOUND', 404, 44],
    ['INVALID_INPUT', 400, 26],
    ['CONSENT_REQUIRED', 400, 0],
    ['FORBIDDEN', 403, 32],
    ['PAYLOAD_TOO_LARGE', 413, 0],
    ['RATE_LIMITED', 429, 0],
    ['ENGINE_OVERLOADED', 429, 0],
    ['INTERNAL', 500, 0],
  ];
  for (const [code, status, cf] of expected) {
    const a = r(code);
    assert.deepEqual([a.status, a.body], [status, { message: 'm', code: cf, veil_code: code }], code);
  }
});

test('the compatibility OpenAPI document passes Redocly lint with no error', () => {
  const dir = tempDir('veil-compreface-openapi-');
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(compreFaceOpenApi()));
  const r = spawnSync(join(REPO, 'node_modules/.bin/redocly'), ['lint', file, '--format=json'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const report = JSON.parse(r.stdout) as {
    totals: { errors: number; warnings: number };
    problems: { message: string; severity: string; location: { pointer: string }[] }[];
  };
  assert.deepEqual(
    report.problems.map((p) => `${p.severity} ${p.location[0]?.pointer}: ${p.message}`),
    [],
  );
  assert.equal(report.totals.errors, 0);
  // Every operation of the surface is documented.
  const doc = compreFaceOpenApi() as { paths: Record<string, Record<string, unknown>> };
  const ops = Object.entries(doc.paths).flatMap(([p, o]) =>
    Object.keys(o)
      .filter((m) => m !== 'parameters')
      .map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
  );
  const routes = compreFaceSurface.routes
    .map((x) => `${x.method} ${x.url}`)
    .filter((x) => !x.endsWith('/openapi.json') && !x.endsWith('subjects/'));
  assert.deepEqual(ops.sort(), routes.sort());
});
