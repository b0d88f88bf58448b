import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { unzipSync, strFromU8 } from 'fflate';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { V1_ROUTES as ROUTES } from '../../src/api/v1/surface.js';
import { actors } from '../../src/auth/actor.js';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { EnginePool } from '../../src/face/engine.pool.js';
import { SmtpMailer } from '../../src/rights/mailer.js';
import { VeilClient, VeilApiError, CLIENT_OPERATIONS } from '../../src/client/client.js';
import { verifyExport } from '../../src/audit/verify.js';
import { verifyCertificate } from '../../src/rights/certificate.js';
import { engineOptions, face, tempDir } from '../helpers.js';
import { startSmtp } from '../../support/smtp.js';

let pool: EnginePool;
let veil: Veil;
let app: FastifyInstance;
let base: string;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let admin: VeilClient;
const NOTICE = 'We match your face against event photos to find the pictures you appear in. Kept one year.';

async function fails(p: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof VeilApiError, String(e));
    return { status: e.status, code: e.code };
  }
  throw new Error('expected a problem answer');
}

/** A real server on a random loopback port with its own data dir, engine pool and an admin key. */
async function startServer(opts: { timeoutMs?: number; role?: 'admin' | 'dpo' } = {}) {
  const pool = await EnginePool.create({ size: 1, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
  const v = await openVeil({ ...(await engineOptions()), dataDir: tempDir('veil-api-'), engine: pool, env: {} });
  const a = await buildApp({ services: v.services });
  await a.listen({ host: '127.0.0.1', port: 0 });
  const addr = a.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const { token } = await v.apiKeys.create(actors.system('t'), {
    name: 'k',
    role: opts.role ?? 'admin',
    purposes: ['*'],
  });
  return {
    url,
    token,
    veil: v,
    close: async () => {
      await a.close();
      await pool.close();
      await v.close();
    },
  };
}

before(async () => {
  smtp = await startSmtp();
  pool = await EnginePool.create({ size: 1, timeoutMs: 20_000 });
  veil = await openVeil({
    ...(await engineOptions()),
    dataDir: tempDir('veil-api-'),
    engine: pool,
    env: { VEIL_LIMITS_PUBLIC_PER_CONTACT_PER_HOUR: '3' },
    mailer: new SmtpMailer(smtp.url, 'privacy@test.example'),
  });
  app = await buildApp({ services: veil.services, limits: { publicPerIpPerMinute: 25 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const { token } = await veil.apiKeys.create(actors.system('test'), { name: 'admin', role: 'admin', purposes: ['*'] });
  admin = new VeilClient(base, token);
});

after(async () => {
  await app.close();
  await pool.close();
  await veil.close();
  await smtp.close();
});

describe('HTTP API over a real server', () => {
  test('OpenAPI document lists every route and every client operation', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    assert.equal(doc.openapi, '3.1.0');
    for (const r of ROUTES)
      assert.ok(
        doc.paths[r.url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[r.method.toLowerCase()],
        `${r.method} ${r.url} missing`,
      );
    for (const [m, p] of CLIENT_OPERATIONS)
      assert.ok(doc.paths[p]?.[m.toLowerCase()], `client calls ${m} ${p}, not in the document`);
    for (const [, ops] of Object.entries(doc.paths))
      for (const op of Object.values(ops) as { responses: Record<string, unknown>; summary: string }[])
        assert.ok(
          op.summary && Object.keys(op.responses).some((s) => /^4\d\d$/.test(s)),
          'each operation documents its problems',
        );
    const docs = await fetch(`${base}/docs/`);
    assert.equal(docs.status, 200);
    assert.ok(docs.headers.get('content-security-policy'));
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  test('the whole flow: purpose, consent, enroll, identify, verify, detect, ingest, redaction, rights request, audit', async () => {
    const purpose = await admin.createPurpose(
      {
        key: 'events',
        name: 'Events',
        description: 'Find the photos of you taken at our events.',
        lawfulBasis: 'consent',
      },
      'create-events-1',
    );
    const replay = await admin.createPurpose(
      {
        key: 'events',
        name: 'Events',
        description: 'Find the photos of you taken at our events.',
        lawfulBasis: 'consent',
      },
      'create-events-1',
    );
    assert.equal(replay.id, purpose.id, 'idempotent replay');
    const { consent, receipt } = await admin.giveConsent({
      purpose: 'events',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 'test',
      contactEmail: 'ada@example.org',
    });
    assert.equal(receipt['receiptId'], consent.id);
    const e = await admin.enroll({
      purpose: 'events',
      consentId: consent.id,
      images: [face('face_recognition/obama/test_obama.jpg')],
    });
    assert.equal(e.subjectId, consent.subjectId);
    const id = await admin.identify({
      purpose: 'events',
      image: face('face_recognition/obama/test_obama2.jpg'),
      justification: 'find my photos',
    });
    assert.equal(id.decision, 'match');
    assert.equal(id.candidates[0]!.subjectId, e.subjectId);
    // The open-set rule's inputs reach the client: one template searched, 1% FPIR, the 1:1 floor.
    assert.deepEqual([id.gallerySize, id.fpir], [1, 0.01]);
    assert.ok(id.threshold >= 0.41, `threshold ${id.threshold}`);
    const none = await admin.identify({
      purpose: 'events',
      image: face('face_recognition/biden/test_biden.jpg'),
      justification: 'x',
    });
    assert.equal(none.decision, 'no-match');
    // Every face of a group probe is searched: Obama matches, Biden and a child (never enrolled) do not.
    const group = await admin.identify({
      purpose: 'events',
      image: face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg'),
      justification: 'group photo',
    });
    assert.ok(group.facesInProbe >= 2);
    assert.deepEqual(
      group.faces.map((f) => f.face),
      group.faces.map((_f, i) => i),
    );
    assert.equal(group.faces.filter((f) => f.decision === 'match').length, 1);
    const obama = group.faces.find((f) => f.decision === 'match')!;
    assert.deepEqual(
      obama.candidates.map((c) => c.subjectId),
      [e.subjectId],
    );
    assert.deepEqual(Object.keys(obama).sort(), ['box', 'candidates', 'decision', 'detectorScore', 'face']);
    assert.ok(
      group.faces[0]!.box.width * group.faces[0]!.box.height >= group.faces[1]!.box.width * group.faces[1]!.box.height,
    );
    assert.equal(group.decision, group.faces[0]!.decision, 'the top level is the largest face');
    const v = await admin.verify({
      purpose: 'events',
      image: face('face_recognition/obama/test_obama3.jpg'),
      subjectId: e.subjectId,
      justification: 'check-in',
    });
    assert.equal(v.match, true);
    const d = await admin.detect(face('faceapi_bbt/_group_photos/bbt4.jpg'));
    assert.equal(d.faces.length, 6);
    const m = await admin.ingest(
      'events',
      face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg'),
      'party.jpg',
    );
    assert.equal(m.status, 'ingested');
    if (m.status !== 'ingested') return;
    assert.equal(m.sightings, 1);
    const jpeg = await admin.redacted(m.mediaId);
    assert.equal(jpeg.subarray(0, 2).toString('hex'), 'ffd8');
    assert.equal((await admin.sightings(e.subjectId)).items.length, 1);
    assert.equal(((await admin.subject(e.subjectId))['templates'] as unknown[]).length, 1);

    // Multipart upload works like base64 JSON.
    const form = new FormData();
    form.append('purpose', 'events');
    form.append('justification', 'multipart');
    form.append(
      'image',
      new Blob([face('face_recognition/obama/test_obama2.jpg')], { type: 'image/jpeg' }),
      'probe.jpg',
    );
    const mp = await fetch(`${base}/v1/identify`, {
      method: 'POST',
      headers: {
        authorization: (admin as unknown as { token: string }).token
          ? `Bearer ${(admin as unknown as { token: string }).token}`
          : '',
      },
      body: form,
    });
    assert.equal(mp.status, 200, await mp.clone().text());
    assert.equal(((await mp.json()) as { decision: string }).decision, 'match');

    // The person asks, verifies with the emailed code and a selfie, and gets their data.
    const pub = new VeilClient(base);
    const r = await pub.submitRequest({ kind: 'access', email: 'ada@example.org' });
    const ver = await pub.verifyRequest(r.requestId, smtp.codeFor('ada@example.org'), [
      face('face_recognition/obama/ex_obama-480p.jpg'),
    ]);
    assert.deepEqual(Object.keys(ver).sort(), ['downloadToken', 'state'], 'nothing says what the selfie matched');
    await fails(pub.download(r.requestId, ver.downloadToken));
    assert.deepEqual(
      await fails(admin.fulfilRequest(r.requestId)),
      { status: 409, code: 'INVALID_STATE' },
      'the DPO reviews a selfie first',
    );
    assert.equal((await admin.getRequest(r.requestId)).review?.state, 'pending');
    await admin.reviewRequest(r.requestId, { decision: 'approve', note: 'selfie matches the linked record' });
    const done = await admin.fulfilRequest(r.requestId);
    assert.equal(done.request.state, 'fulfilled');
    const zip = unzipSync(new Uint8Array(await pub.download(r.requestId, ver.downloadToken)));
    assert.equal(JSON.parse(strFromU8(zip['manifest.json']!)).subjects[0].subjectId, e.subjectId);
    const queue = await admin.listRequests({ limit: 1 });
    assert.equal(queue.items.length, 1);

    // Erasure through the API; the certificate verifies; identify then finds nothing.
    const er = await pub.submitRequest({ kind: 'erasure', email: 'ada@example.org' });
    const ever = await pub.verifyRequest(er.requestId, smtp.codeFor('ada@example.org'));
    const fin = await admin.fulfilRequest(er.requestId);
    assert.deepEqual(verifyCertificate(fin.certificate as never, (await pub.auditPubkey()).publicKey), []);
    assert.equal((await pub.requestResult(er.requestId, ever.downloadToken)).state, 'fulfilled');
    assert.equal(
      (
        await admin.identify({
          purpose: 'events',
          image: face('face_recognition/obama/test_obama2.jpg'),
          justification: 'after',
        })
      ).decision,
      'no-match',
    );

    const exp = (await admin.auditExport()).toString('utf8').trim().split('\n');
    const rep = verifyExport(exp, { trustedPublicKeys: [(await pub.auditPubkey()).publicKey] });
    assert.equal(rep.ok, true, JSON.stringify(rep.failure));
    const head = await admin.auditHead();
    const etag = await fetch(`${base}/v1/audit/head`, {
      headers: { authorization: `Bearer ${(admin as unknown as { token: string }).token}` },
    });
    const again = await fetch(`${base}/v1/audit/head`, {
      headers: {
        authorization: `Bearer ${(admin as unknown as { token: string }).token}`,
        'if-none-match': etag.headers.get('etag')!,
      },
    });
    assert.equal(again.status, 304);
    assert.ok(head.size > 10);
    const entries = await admin.auditEntries({ actor: 'requester', limit: 2 });
    assert.equal(entries.items.length, 2);
    assert.ok(entries.nextCursor);
    assert.ok(
      !JSON.stringify(await admin.auditEntries({ limit: 500 })).includes('ada@example.org'),
      'no email in the audit log',
    );

    assert.equal((await fetch(`${base}/metrics`)).status, 401, 'metrics name purposes: a key is needed');
    const metrics = await (
      await fetch(`${base}/metrics`, {
        headers: { authorization: `Bearer ${(admin as unknown as { token: string }).token}` },
      })
    ).text();
    assert.match(metrics, /veil_http_requests_total\{method="POST",route="\/v1\/identify",status="200"\} \d+/);
    assert.match(metrics, /veil_rights_requests_open 0/);
  });

  test('auth: missing key, wrong role, wrong purpose, case reference for investigators', async () => {
    await admin.createPurpose({
      key: 'investigations',
      name: 'Investigations',
      description: 'Identification of suspects under a court order.',
      lawfulBasis: 'legal-obligation',
      art9Condition: 'substantial-public-interest',
      legalReference: 'Code of Criminal Procedure art. 123',
      requiresCaseRef: true,
    });
    await admin.createPurpose({
      key: 'members',
      name: 'Members',
      description: 'Member check-in at the front desk with consent.',
      lawfulBasis: 'consent',
    });
    const anon = new VeilClient(base);
    assert.deepEqual(await fails(anon.listPurposes()), { status: 401, code: 'UNAUTHENTICATED' });
    assert.deepEqual(await fails(new VeilClient(base, 'veil_key_AAAAAAAAAAAAAAAA_nope').listPurposes()), {
      status: 401,
      code: 'UNAUTHENTICATED',
    });
    const inv = new VeilClient(
      base,
      (await admin.createKey({ name: 'inv', role: 'investigator', purposes: ['investigations'] })).token,
    );
    const aud = new VeilClient(base, (await admin.createKey({ name: 'aud', role: 'auditor', purposes: ['*'] })).token);
    const img = face('face_recognition/obama/test_obama.jpg');
    assert.deepEqual(await fails(inv.identify({ purpose: 'investigations', image: img, justification: 'no case' })), {
      status: 422,
      code: 'CASE_REF_REQUIRED',
    });
    assert.deepEqual(await fails(inv.identify({ purpose: 'members', image: img, caseRef: 'C-1' })), {
      status: 403,
      code: 'FORBIDDEN',
    });
    assert.equal((await inv.identify({ purpose: 'investigations', image: img, caseRef: 'C-1' })).decision, 'no-match');
    assert.deepEqual(await fails(aud.identify({ purpose: 'members', image: img, justification: 'x' })), {
      status: 403,
      code: 'FORBIDDEN',
    });
    assert.deepEqual(
      await fails(
        inv.createPurpose({
          key: 'x-y',
          name: 'x',
          description: 'a description long enough to pass',
          lawfulBasis: 'consent',
        }),
      ),
      { status: 403, code: 'FORBIDDEN' },
    );
    assert.ok((await aud.auditHead()).size > 0);
    const entry = (await admin.auditEntries({ limit: 1 })).items[0] as { actor: { id: string } };
    assert.match(entry.actor.id, /^key_/, 'every call names its key in the audit log');
  });

  test('bad input answers with problem documents and loses nothing', async () => {
    const raw = (path: string, init: RequestInit) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${(admin as unknown as { token: string }).token}`, ...(init.headers ?? {}) },
      });
    const check = async (res: Response, status: number, code: string) => {
      assert.equal(res.status, status, await res.clone().text());
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      const p = (await res.json()) as { code: string; detail: string; requestId: string };
      assert.equal(p.code, code);
      assert.ok(p.requestId);
      assert.doesNotMatch(p.detail, /\n\s+at /, 'no stack trace');
    };
    const before = (await veil.store.db.selectFrom('templates').selectAll().execute()).length;
    await check(
      await raw('/v1/identify', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          purpose: 'events',
          image: Buffer.from('not an image at all').toString('base64'),
          justification: 'x',
        }),
      }),
      422,
      'INVALID_IMAGE',
    );
    await check(
      await raw('/v1/identify', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"purpose": 1}',
      }),
      400,
      'INVALID_INPUT',
    );
    await check(
      await raw('/v1/identify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' }),
      400,
      'INVALID_INPUT',
    );
    await check(
      await raw('/v1/identify', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await check(
      await raw('/v1/identify', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          purpose: 'nope',
          image: face('faceapi_bbt/amy/amy1.png').toString('base64'),
          justification: 'x',
        }),
      }),
      404,
      'UNKNOWN_PURPOSE',
    );
    await check(
      await raw('/v1/enroll', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          purpose: 'events',
          images: [face('face_recognition/obama/test_obama.jpg').toString('base64')],
        }),
      }),
      422,
      'CONSENT_REQUIRED',
    );
    await check(
      await raw('/v1/enroll', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          purpose: 'investigations',
          images: [face('faceapi_bbt/_group_photos/bbt4.jpg').toString('base64')],
          sourceReference: 'W-1',
        }),
      }),
      422,
      'MULTIPLE_FACES',
    );
    await check(await raw('/v1/nothing-here', { method: 'GET' }), 404, 'NOT_FOUND');
    await check(await raw('/v1/rights/requests/req_nope', { method: 'GET' }), 404, 'NOT_FOUND');
    const big = Buffer.alloc(26 * 2 ** 20, 1).toString('base64');
    await check(
      await raw('/v1/detect', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image: big }),
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    assert.equal((await veil.store.db.selectFrom('templates').selectAll().execute()).length, before);
  });

  test('public endpoints are rate limited per contact and per IP, and never reveal enrollment before verification', async () => {
    const pub = new VeilClient(base);
    const a = await pub.submitRequest({ kind: 'access', email: 'nobody@example.org' });
    const b = await pub.submitRequest({ kind: 'access', email: 'ada2@example.org' });
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), 'the same answer whether enrolled or not');
    await pub.submitRequest({ kind: 'access', email: 'flood@example.org' });
    await pub.submitRequest({ kind: 'access', email: 'flood@example.org' });
    await pub.submitRequest({ kind: 'access', email: 'flood@example.org' });
    assert.deepEqual(await fails(pub.submitRequest({ kind: 'access', email: 'flood@example.org' })), {
      status: 429,
      code: 'RATE_LIMITED',
    });
    let limited = false;
    for (let i = 0; i < 30 && !limited; i++) {
      const res = await fetch(`${base}/v1/rights/requests/req_x/resend`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      if (res.status === 429) {
        limited = true;
        assert.ok(res.headers.get('retry-after'));
      }
    }
    assert.ok(limited, 'per-IP limit trips');
  });
});

test('a request that times out in the engine returns 503 and the server keeps serving', async () => {
  const s = await startServer({ timeoutMs: 1 });
  const { url } = s;
  const c = new VeilClient(url, s.token);
  assert.deepEqual(await fails(c.detect(face('compreface/personA_sample/05.A.jpg'))), {
    status: 503,
    code: 'ENGINE_TIMEOUT',
  });
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  assert.equal((await c.listPurposes()).items.length, 0);
  await s.close();
});

test('the CLI works against a server (remote mode) with the same codes', async () => {
  const { execFile } = await import('node:child_process');
  const { join } = await import('node:path');
  const { REPO, FACES } = await import('../helpers.js');
  const s = await startServer();
  const { url, token } = s;
  // Asynchronous: the server runs in this process and must keep answering while the CLI waits.
  const veilCli = (...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(REPO, 'bin/veil.mjs'), '--url', url, '--key', token, ...args],
        { encoding: 'utf8', timeout: 60_000 },
        (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
      );
    });
  assert.equal(
    (
      await veilCli(
        'purpose',
        'create',
        '--key',
        'desk',
        '--name',
        'Desk',
        '--description',
        'Member check-in at the front desk.',
        '--basis',
        'legal-obligation',
      )
    ).code,
    1,
  );
  assert.equal(
    (
      await veilCli(
        'purpose',
        'create',
        '--key',
        'desk',
        '--name',
        'Desk',
        '--description',
        'Member check-in at the front desk.',
        '--basis',
        'consent',
      )
    ).code,
    0,
  );
  const list = await veilCli('purpose', 'list', '--json');
  assert.equal(JSON.parse(list.out)[0].key, 'desk');
  const id = await veilCli(
    'identify',
    '--purpose',
    'desk',
    join(FACES, 'faceapi_bbt/amy/amy1.png'),
    '--justification',
    'remote',
  );
  assert.equal(id.code, 0, id.err);
  assert.match(id.out, /no match/);
  const noJust = await veilCli('identify', '--purpose', 'desk', join(FACES, 'faceapi_bbt/amy/amy1.png'));
  assert.equal(noJust.code, 1);
  assert.match(noJust.err, /CASE_REF_REQUIRED/);
  await s.close();
});

test('oversight over HTTP: ROPA as JSON and Markdown, public retention schedule, breach clock in /metrics', async () => {
  const s = await startServer({ role: 'dpo' });
  const { url, token } = s;
  const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  await fetch(`${url}/v1/purposes`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({
      key: 'events',
      name: 'Events',
      description: 'Find the photos of you taken at our events.',
      lawfulBasis: 'consent',
      retention: 'P6M',
    }),
  });
  const ropa = (await (await fetch(`${url}/v1/oversight/ropa`, { headers: h })).json()) as {
    processing: { purpose: { key: string } }[];
  };
  assert.equal(ropa.processing[0]!.purpose.key, 'events');
  const md = await fetch(`${url}/v1/oversight/ropa?format=md`, { headers: h });
  assert.match(md.headers.get('content-type') ?? '', /markdown/);
  assert.match(await md.text(), /Record of processing activities/);
  const sched = (await (await fetch(`${url}/v1/retention-schedule`)).json()) as { items: { retention: string }[] };
  assert.equal(sched.items[0]!.retention, 'P6M');
  const dry = (await (
    await fetch(`${url}/v1/oversight/retention/run`, { method: 'POST', headers: h, body: '{"dryRun": true}' })
  ).json()) as { dryRun: boolean };
  assert.equal(dry.dryRun, true);
  const b = await fetch(`${url}/v1/oversight/breaches`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({
      discoveredAt: '2020-01-01T00:00:00.000Z',
      nature: 'Misdirected email with an export.',
      categories: ['contact'],
      approxPeople: 1,
      approxRecords: 1,
      consequences: 'Low risk.',
      measures: 'Recalled.',
    }),
  });
  assert.equal(b.status, 201);
  assert.match(await (await fetch(`${url}/metrics`, { headers: h })).text(), /veil_breach_notifications_overdue 1/);
  await s.close();
});
