import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { VeilClient, VeilApiError } from '../../src/client/client.js';
import { engineEnv, face, tempDir } from '../helpers.js';
import { startSmtp } from '../../support/smtp.js';
import { spawnServer, type ServerProcess } from '../../support/server-process.js';
import { svgBomb } from '../engine/hostile-images.js';
import sharp from 'sharp';
import { strFromU8, unzipSync } from 'fflate';

/**
 * The attacks of the security review, replayed against a real `veil serve` (the bin, real engine,
 * real SMTP), each now failing to achieve what it did.
 */
const NOTICE = 'We match your face against event photos to find the pictures you appear in.';
const VICTIM = 'face_recognition/obama/test_obama.jpg';
const VICTIM_PHOTO = 'face_recognition/obama/test_obama2.jpg';

async function fails(p: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof VeilApiError, String(e));
    return { status: e.status, code: e.code };
  }
  throw new Error('expected a problem answer');
}

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

describe('attacks of the security review, against a real server', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let env: Record<string, string>;
  let server: ServerProcess;
  let admin: VeilClient;
  let anon: VeilClient;
  let victim: string;
  let keyA: VeilClient;

  before(async () => {
    smtp = await startSmtp();
    env = {
      VEIL_DATA_DIR: tempDir('veil-attacks-'),
      VEIL_SMTP_URL: smtp.url,
      VEIL_MAIL_FROM: 'privacy@test.example',
      ...(await engineEnv()),
    };
    server = await spawnServer(env);
    admin = new VeilClient(server.url, server.adminToken!);
    anon = new VeilClient(server.url);
    for (const key of ['alpha', 'beta'])
      await admin.createPurpose({
        key,
        name: key,
        description: `Find the photos of you at ${key} events.`,
        lawfulBasis: 'consent',
      });
    const { consent } = await admin.giveConsent({
      purpose: 'beta',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 't',
      contactEmail: 'victim@example.org',
    });
    victim = (await admin.enroll({ purpose: 'beta', consentId: consent.id, images: [face(VICTIM)] })).subjectId;
    keyA = new VeilClient(
      server.url,
      (await admin.createKey({ name: 'a', role: 'operator', purposes: ['alpha'] })).token,
    );
  });

  after(async () => {
    await server?.stop();
    await smtp?.close();
  });

  test('2. a photo of someone plus my own mailbox unlocks nothing, erases no one, and says nothing of enrollment', async () => {
    const r = await anon.submitRequest({ kind: 'access', email: 'attacker@example.org' });
    const ver = await anon.verifyRequest(r.requestId, smtp.codeFor('attacker@example.org'), [face(VICTIM_PHOTO)]);
    assert.deepEqual(Object.keys(ver).sort(), ['downloadToken', 'state']);
    const answer = await anon.selfService(r.requestId, ver.downloadToken);
    assert.equal(answer.review, 'pending');
    // The export is deflated: read what it says, not its compressed bytes.
    const files = unzipSync(new Uint8Array(await anon.download(r.requestId, ver.downloadToken)));
    const manifest = strFromU8(files['manifest.json']!);
    assert.deepEqual(JSON.parse(manifest).subjects, [], 'nothing released before review');
    assert.ok(
      !manifest.includes(victim) && !manifest.includes('victim@example.org'),
      'nothing of the victim in the export',
    );
    assert.deepEqual(
      Object.keys(files).filter((f) => f.endsWith('.jpg')),
      [],
      'no face crop',
    );
    const erase = await anon.requestAction(r.requestId, ver.downloadToken, 'erasure');
    const restrict = await anon.requestAction(r.requestId, ver.downloadToken, 'restriction');
    assert.equal(erase.review, 'pending');
    assert.equal(restrict.review, 'pending');
    assert.equal(erase.certificate, null);
    const still = await admin.identify({
      purpose: 'beta',
      image: face('face_recognition/obama/test_obama3.jpg'),
      justification: 'after the attack',
    });
    assert.equal(still.candidates[0]?.subjectId, victim, 'the victim is neither erased nor restricted');
    const queued = await admin.listRequests({ review: true });
    assert.ok(
      queued.items.some((q) => q.id === erase.requestId && q.review?.items.some((i) => i.subjectId === victim)),
      'the DPO has it, with the evidence',
    );
    // Portal enrollment proves the address before any face: no way to enroll a face without the code.
    const start = await anon.portalStart('alpha', 'someone@example.org');
    assert.deepEqual(Object.keys(start), ['enrollmentId']);
    assert.equal(
      (await fails(anon.portalConfirm(start.enrollmentId, '999999', face(VICTIM_PHOTO)))).code,
      smtp.codeFor('someone@example.org') === '999999' ? 'X' : 'CODE_INVALID',
    );
  });

  test('3. a key bound to purpose A cannot reach, relabel or enroll a subject of purpose B', async () => {
    assert.deepEqual(await fails(keyA.subject(victim)), { status: 404, code: 'UNKNOWN_SUBJECT' });
    assert.deepEqual(await fails(keyA.sightings(victim)), { status: 404, code: 'UNKNOWN_SUBJECT' });
    const relabel = keyA.giveConsent({
      purpose: 'alpha',
      subjectId: victim,
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 'x',
      contactEmail: 'attacker@example.org',
    });
    assert.deepEqual(await fails(relabel), { status: 404, code: 'UNKNOWN_SUBJECT' });
    assert.deepEqual(
      await fails(
        keyA.enroll({
          purpose: 'alpha',
          subjectId: victim,
          images: [face('face_recognition/biden/test_biden.jpg')],
        } as never),
      ),
      { status: 404, code: 'UNKNOWN_SUBJECT' },
    );
    // The victim's address still belongs to the victim: a request from it finds them.
    const r = await anon.submitRequest({ kind: 'access', email: 'victim@example.org' });
    const ver = await anon.verifyRequest(r.requestId, smtp.codeFor('victim@example.org'));
    const answer = await anon.selfService(r.requestId, ver.downloadToken);
    assert.equal(answer.outcome?.['subjects'], 1);
  });

  test('5. abuse controls: threshold floor, visible reasons, code resends, bodies read only after the key, public limits, typed errors', async (t) => {
    const img = face(VICTIM_PHOTO);
    assert.equal(
      (await fails(admin.identify({ purpose: 'beta', image: img, justification: 'x', threshold: -1 } as never))).code,
      'INVALID_INPUT',
    );
    assert.equal(
      (
        await fails(
          admin.verify({ purpose: 'beta', image: img, secondImage: img, justification: 'x', threshold: 0.03 } as never),
        )
      ).code,
      'INVALID_INPUT',
    );
    assert.equal(
      (await fails(admin.identify({ purpose: 'beta', image: img, caseRef: '\u200b' }))).code,
      'INVALID_INPUT',
    );
    assert.equal(
      (await fails(admin.identify({ purpose: 'beta', image: img, justification: 'a\u0000' }))).code,
      'INVALID_INPUT',
    );
    // Resend: a few times per request, then refused (no 26 mails from 25 calls).
    const r = await anon.submitRequest({ kind: 'access', email: 'resend@example.org' });
    const resend = () =>
      fetch(`${server.url}/v1/rights/requests/${r.requestId}/resend`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await resend()).status);
    assert.deepEqual(statuses, [202, 202, 202, 429, 429, 429]);
    assert.equal(smtp.messages.filter((m) => m.to === 'resend@example.org').length, 4);
    // A body is not read before the key is checked: big unauthenticated bodies cost nothing.
    const before = rss(server.child.pid!);
    const big = Buffer.alloc(24 * 2 ** 20, 65);
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${server.url}/v1/identify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: big,
        }).then(
          (x) => x.status,
          () => 0,
        ),
      ),
    );
    assert.ok(
      answers.every((s) => s === 401 || s === 0),
      answers.join(','),
    );
    assert.ok(performance.now() - t0 < 20_000);
    assert.ok(
      rss(server.child.pid!) - before < 150 * 2 ** 20,
      `RSS grew by ${((rss(server.child.pid!) - before) / 2 ** 20).toFixed(0)} MB`,
    );
    // Public routes: a photo of at most 10 MB, JSON of at most 64 KB.
    const pub = (path: string, body: string, type: string) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    // The server may answer 413 and close before a large body has been sent: the client then sees a reset.
    const status = (p: Promise<Response>) =>
      p.then(
        (x) => String(x.status),
        () => 'reset',
      );
    assert.match(
      await status(
        pub(
          '/v1/rights/requests',
          JSON.stringify({ kind: 'access', email: 'x@example.org', details: 'x'.repeat(100_000) }),
          'application/json',
        ),
      ),
      /^(413|reset)$/,
    );
    assert.match(
      await status(
        pub(
          `/v1/rights/requests/${r.requestId}/verify`,
          JSON.stringify({ code: '000000', selfie: Buffer.alloc(11 * 2 ** 20).toString('base64') }),
          'application/json',
        ),
      ),
      /^(413|reset)$/,
    );
    // Multipart on the public routes (review H4): the multipart reader buffers every part whatever the
    // body limit, so it is refused where no photo is taken, and bounded by a declared length where one is.
    const form = (files: number, bytes: number) => {
      const parts = Array.from({ length: files }, (_, i) =>
        Buffer.concat([
          Buffer.from(
            `--b\r\nContent-Disposition: form-data; name="selfie${i}"; filename="a${i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
          ),
          Buffer.alloc(bytes, 0xff),
          Buffer.from('\r\n'),
        ]),
      );
      return Buffer.concat([...parts, Buffer.from('--b--\r\n')]);
    };
    const multipart = (path: string, body: Buffer, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=b', ...headers },
        body,
      });
    const asJson = await multipart('/v1/rights/requests', form(1, 1000));
    assert.equal(asJson.status, 415, await asJson.clone().text());
    assert.equal(((await asJson.json()) as { code: string }).code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal((await multipart('/v1/portal/enroll', form(1, 1000))).status, 415, 'the portal step without a photo');
    const before2 = rss(server.child.pid!);
    const burst = await Promise.all(
      Array.from({ length: 25 }, () =>
        status(multipart(`/v1/rights/requests/${r.requestId}/verify`, form(3, 10 * 2 ** 20 - 1000))),
      ),
    );
    assert.ok(
      burst.every((x) => x === '413' || x === 'reset'),
      burst.join(','),
    );
    const grew = rss(server.child.pid!) - before2;
    t.diagnostic(
      `RSS ${(before2 / 2 ** 20).toFixed(0)} MB before 25 multipart bodies of 30 MB, +${(grew / 2 ** 20).toFixed(0)} MB after`,
    );
    assert.ok(grew < 150 * 2 ** 20, `RSS grew by ${(grew / 2 ** 20).toFixed(0)} MB under 25 multipart bodies of 30 MB`);
    // Without a declared length the size cannot be bounded up front: refused.
    const chunked = await fetch(`${server.url}/v1/rights/requests/${r.requestId}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      body: new Blob([form(1, 1000)]).stream(),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 400);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200, 'and the server keeps serving');
    // The public routes take JPEG, PNG and WebP only, decided by the leading bytes before any decoder runs.
    const f = await anon.submitRequest({ kind: 'access', email: 'formats@example.org' });
    const selfie = (b: Buffer) =>
      pub(
        `/v1/rights/requests/${f.requestId}/verify`,
        JSON.stringify({ code: smtp.codeFor('formats@example.org'), selfie: b.toString('base64') }),
        'application/json',
      );
    // Refused by the sniff (the code says so), so no decoder ran: no clock needed.
    const svg = await selfie(Buffer.from(svgBomb()));
    assert.equal(svg.status, 415);
    assert.equal(((await svg.json()) as { code: string }).code, 'UNSUPPORTED_IMAGE_FORMAT');
    assert.equal(
      (await selfie(await sharp(face(VICTIM_PHOTO)).gif().toBuffer())).status,
      415,
      'GIF only for operators',
    );
    assert.equal((await selfie(face(VICTIM_PHOTO))).status, 200, 'the same code still works with a photo');
    // Malformed multipart is the client's error, public or not.
    const broken =
      '--xx\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nabc';
    assert.equal(
      (await pub(`/v1/rights/requests/${r.requestId}/verify`, broken, 'multipart/form-data; boundary=xx')).status,
      400,
    );
    const keyed = await fetch(`${server.url}/v1/identify`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xx', authorization: `Bearer ${server.adminToken}` },
      body: broken,
    });
    assert.equal(keyed.status, 400);
    // A photo that cannot be ingested is a 4xx, not a 201.
    assert.equal((await fails(admin.ingest('beta', Buffer.from('not a photo at all'), 'bad.jpg'))).status, 422);
    // Metrics name purposes and gallery sizes: not for strangers.
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
  });

  test('rate limits live in the store: a restart does not reset them', async () => {
    const email = 'flood@example.org';
    const codes = [];
    for (let i = 0; i < 7; i++)
      codes.push(
        await anon.submitRequest({ kind: 'access', email }).then(
          () => 202,
          (e: VeilApiError) => e.status,
        ),
      );
    assert.deepEqual(codes, [202, 202, 202, 202, 202, 429, 429]);
    await server.stop();
    server = await spawnServer(env);
    anon = new VeilClient(server.url);
    admin = new VeilClient(server.url, admin['token' as never]);
    assert.equal((await fails(anon.submitRequest({ kind: 'access', email }))).code, 'RATE_LIMITED');
  });
});
