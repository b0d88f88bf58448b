import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import { CompreFace } from '@exadel/compreface-js-sdk';
import { VeilClient } from '../../src/client/client.js';
import { FACES, REPO, engineEnv, face, tempDir } from '../helpers.js';
import { spawnServer, type ServerProcess } from '../../support/server-process.js';

/**
 * The official CompreFace JavaScript SDK (1.0.0, unmodified) driving a real `veil serve` through
 * every one of its operations, with a compatibility key made by `veil keys create --compreface`.
 */
const NOTICE = 'We recognise the faces at your front door to tell you who is there.';
const OBAMA = 'face_recognition/obama/test_obama.jpg';
const OBAMA2 = 'face_recognition/obama/test_obama2.jpg';
const OBAMA3 = 'face_recognition/obama/test_obama3.jpg';
const BIDEN = 'face_recognition/biden/test_biden.jpg';

/** The SDK reads files by paths that start with '.', relative to the working directory. */
const rel = (p: string) => {
  face(p); // a missing fixture fails here, by name
  const r = relative(process.cwd(), join(FACES, p));
  return r.startsWith('.') ? r : `./${r}`;
};

/** The SDK's own typings name `subjectFunctions()`, its code `getSubjects()`: typed here as the code is. */
type Subjects = {
  add(s: string): Promise<unknown>;
  list(): Promise<unknown>;
  rename(from: string, to: string): Promise<unknown>;
  delete(s: string): Promise<unknown>;
  deleteAll(): Promise<unknown>;
};
const subjectsOf = (cf: CompreFace, key: string) =>
  (cf.initFaceRecognitionService(key) as unknown as { getSubjects(): Subjects }).getSubjects();

type SdkError = { response?: { status: number; data: { message: string; code: number; veil_code?: string } } };
async function refused(p: Promise<unknown>) {
  const e = (await p.then(
    () => assert.fail('expected a refusal'),
    (x: unknown) => x,
  )) as SdkError;
  assert.ok(e.response, String(e));
  return { status: e.response.status, ...e.response.data };
}

function compatKey(env: Record<string, string>, role: string): string {
  const r = spawnSync(
    process.execPath,
    [join(REPO, 'bin/veil.mjs'), 'keys', 'create', '--role', role, '--purpose', 'doorbell', '--compreface', '--json'],
    { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env }, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

describe('the CompreFace JS SDK against veil serve', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  let operatorKey: string;
  let adminKey: string;
  let cf: CompreFace;
  let admin: VeilClient;

  before(async () => {
    env = { VEIL_DATA_DIR: tempDir('veil-compreface-'), ...(await engineEnv()) };
    server = await spawnServer(env);
    admin = new VeilClient(server.url, server.adminToken!);
    await admin.createPurpose({
      key: 'doorbell',
      name: 'Doorbell',
      description: 'Tell the household who is at the front door.',
      lawfulBasis: 'consent',
      keepSourceImages: true,
    });
    await admin.giveConsent({
      purpose: 'doorbell',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'paper',
      collector: 'household',
      alias: 'Obama',
    });
    operatorKey = compatKey(env, 'operator');
    adminKey = compatKey(env, 'admin');
    const u = new URL(server.url);
    cf = new CompreFace(`${u.protocol}//${u.hostname}`, Number(u.port));
  });

  after(async () => {
    await server?.stop();
  });

  test('subjects: add, list, rename, delete', async () => {
    const subjects = subjectsOf(cf, operatorKey);
    assert.deepEqual(await subjects.add('Visitor'), { subject: 'Visitor' });
    assert.deepEqual(await subjectsOf(cf, operatorKey).list(), {
      subjects: ['Obama', 'Visitor'],
    });
    const taken = await refused(subjectsOf(cf, operatorKey).add('visitor'));
    assert.deepEqual([taken.status, taken.code], [400, 43]);
    assert.deepEqual(await subjectsOf(cf, operatorKey).rename('Visitor', 'Guest'), {
      updated: true,
    });
    assert.deepEqual(await subjectsOf(cf, operatorKey).delete('guest'), {
      subject: 'Guest',
    });
    const gone = await refused(subjectsOf(cf, operatorKey).delete('Guest'));
    assert.deepEqual([gone.status, gone.code], [404, 42]);
  });

  test('a face without consent is refused in a shape the SDK passes on, saying how to get consent', async () => {
    const r = await refused(cf.initFaceRecognitionService(operatorKey).getFaceCollection().add(rel(BIDEN), 'Biden'));
    assert.equal(r.status, 400);
    assert.equal(r.veil_code, 'CONSENT_REQUIRED');
    assert.match(r.message, /consent/i);
    assert.match(r.message, /portal|\/v1\/consents/);
  });

  test('faces: add, list, recognize, verify, image, delete one, delete several, delete by subject', async () => {
    const rec = cf.initFaceRecognitionService(operatorKey);
    const a = (await rec.getFaceCollection().add(rel(OBAMA), 'obama')) as { image_id: string; subject: string };
    assert.equal(a.subject, 'Obama');
    const b = (await rec.getFaceCollection().add(rel(OBAMA2), 'Obama', { det_prob_threshold: '0.8' })) as {
      image_id: string;
    };
    const list = (await rec.getFaceCollection().list()) as { faces: { image_id: string }[]; total_elements: number };
    assert.equal(list.total_elements, 2);
    assert.deepEqual(list.faces.map((f) => f.image_id).sort(), [a.image_id, b.image_id].sort());

    const r = (await rec.recognize(rel(OBAMA3), {
      limit: 0,
      prediction_count: 1,
      face_plugins: 'landmarks,pose,age,gender,calculator',
      status: true,
    })) as { result: Record<string, unknown>[]; plugins_versions: Record<string, string> };
    const top = r.result[0]! as {
      subjects: { subject: string; similarity: number }[];
      box: Record<string, number>;
      landmarks: number[][];
    };
    assert.equal(top.subjects[0]!.subject, 'Obama');
    assert.ok(top.subjects[0]!.similarity >= 0.6);
    assert.deepEqual(Object.keys(top.box).sort(), ['probability', 'x_max', 'x_min', 'y_max', 'y_min']);
    assert.equal(top.landmarks.length, 5);
    for (const banned of ['embedding', 'age', 'gender', 'mask']) assert.ok(!(banned in top), banned);
    assert.ok('execution_time' in top && r.plugins_versions['detector']);

    const v = (await rec.getFaceCollection().verify(rel(OBAMA3), a.image_id, { limit: 0 })) as {
      result: { similarity: number }[];
    };
    assert.ok(v.result[0]!.similarity >= 0.6);
    const stranger = (await cf
      .initFaceRecognitionService(operatorKey)
      .getFaceCollection()
      .verify(rel(BIDEN), a.image_id, { limit: 0 })) as {
      result: { similarity: number }[];
    };
    assert.ok(stranger.result[0]!.similarity < 0.6);

    const img = await fetch(`${server.url}/api/v1/recognition/faces/${a.image_id}/img`, {
      headers: { 'x-api-key': operatorKey },
    });
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/jpeg');

    assert.deepEqual(await cf.initFaceRecognitionService(operatorKey).getFaceCollection().delete(a.image_id), {
      image_id: a.image_id,
      subject: 'Obama',
    });
    assert.deepEqual(
      await cf.initFaceRecognitionService(operatorKey).getFaceCollection().delete_multiple_images([b.image_id, 'nope']),
      { deleted: [{ image_id: b.image_id, subject: 'Obama' }] },
    );
    await cf.initFaceRecognitionService(operatorKey).getFaceCollection().add(rel(OBAMA), 'Obama');
    assert.deepEqual(await cf.initFaceRecognitionService(operatorKey).getFaceCollection().delete_all_subject('Obama'), {
      deleted: 1,
    });
    // Retraining: the name and its consent stay.
    await cf.initFaceRecognitionService(operatorKey).getFaceCollection().add(rel(OBAMA2), 'Obama');
  });

  test('delete everything: refused to an operator key, done with an admin-bound key', async () => {
    const no = await refused(cf.initFaceRecognitionService(operatorKey).getFaceCollection().delete_all());
    assert.deepEqual([no.status, no.veil_code], [403, 'FORBIDDEN']);
    const noSubjects = await refused(subjectsOf(cf, operatorKey).deleteAll());
    assert.equal(noSubjects.status, 403);
    const all = (await cf.initFaceRecognitionService(adminKey).getFaceCollection().delete_all()) as { deleted: number };
    assert.ok(all.deleted >= 1);
    assert.deepEqual(await subjectsOf(cf, adminKey).deleteAll(), { deleted: 1 });
    assert.deepEqual(await subjectsOf(cf, adminKey).list(), { subjects: [] });
  });

  test('detection and verification services', async () => {
    const d = (await cf
      .initFaceDetectionService(operatorKey)
      .detect(rel('face_recognition/_multi_face/ex_two_people.jpg'), {
        limit: 0,
        face_plugins: 'landmarks',
      })) as { result: { box: Record<string, number>; landmarks: number[][] }[] };
    assert.equal(d.result.length, 2);
    assert.ok(d.result.every((f) => Number.isInteger(f.box['x_min']) && f.landmarks.length === 5));
    const same = (await cf.initFaceVerificationService(operatorKey).verify(rel(OBAMA), rel(OBAMA2), { limit: 0 })) as {
      result: { source_image_face: unknown; face_matches: { similarity: number }[] }[];
    };
    assert.ok(same.result[0]!.face_matches[0]!.similarity >= 0.6);
    const other = (await cf.initFaceVerificationService(operatorKey).verify(rel(OBAMA), rel(BIDEN), { limit: 0 })) as {
      result: { face_matches: { similarity: number }[] }[];
    };
    assert.ok(other.result[0]!.face_matches[0]!.similarity < 0.6);
  });

  test('clients in the wild: sloppy calls are accepted, every error is CompreFace-shaped', async () => {
    const call = async (
      method: string,
      path: string,
      init: { key?: string | null; json?: unknown; body?: FormData | Uint8Array | string; type?: string } = {},
    ) => {
      const headers: Record<string, string> = {};
      if (init.key !== null) headers['x-api-key'] = init.key ?? operatorKey;
      if (init.type) headers['content-type'] = init.type;
      let body = init.body;
      if (init.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(init.json);
      }
      const r = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const photo = (p: string) => {
      const f = new FormData();
      f.append('file', new Blob([face(p)]), 'x.jpg');
      return f;
    };
    await admin.giveConsent({
      purpose: 'doorbell',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'paper',
      collector: 'household',
      alias: 'Barack Obama',
    });
    // Keys: missing (20) and unknown (10), both 401 in CompreFace's shape.
    assert.deepEqual(await call('GET', '/recognition/subjects', { key: null }), {
      status: 401,
      body: { message: 'Missing header: x-api-key', code: 20, veil_code: 'UNAUTHENTICATED' },
    });
    assert.equal((await call('GET', '/recognition/subjects', { key: 'veil_key_nope' })).body['code'], 10);
    // A space sent as '+', a case that differs, and the SDK's second '?' in the query.
    const plus = await call('POST', '/recognition/faces?subject=Barack+Obama', { body: photo(OBAMA) });
    assert.deepEqual([plus.status, plus.body['subject']], [201, 'Barack Obama']);
    const doubled = await call('POST', '/recognition/faces?subject=barack%20obama?det_prob_threshold=0.8', {
      body: photo(OBAMA2),
    });
    assert.deepEqual([doubled.status, doubled.body['subject']], [201, 'Barack Obama']);
    assert.equal((await call('GET', '/recognition/faces?subject=BARACK+OBAMA')).body['total_elements'], 2);
    // Booleans as Python spells them, 'undefined' and unknown plugins, a base64 JSON body.
    const r = await call(
      'POST',
      '/recognition/recognize?face_plugins=undefined,age,mask,calculator,nonsense&status=True&prediction_count=undefined&limit=undefined',
      { json: { file: face(OBAMA3).toString('base64') } },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const result = r.body['result'] as { subjects: { subject: string; similarity: number }[]; landmarks?: unknown }[];
    assert.equal(result[0]!.subjects[0]!.subject, 'Barack Obama');
    assert.ok(!('landmarks' in result[0]!) && 'plugins_versions' in r.body);
    const off = await call('POST', '/recognition/recognize?status=False', { body: photo(OBAMA3) });
    assert.ok(!('plugins_versions' in off.body));
    // Someone not enrolled: an empty list (never a name below the threshold), still an array.
    const nobody = await call('POST', '/recognition/recognize', { body: photo(BIDEN) });
    assert.deepEqual((nobody.body['result'] as { subjects: unknown[] }[])[0]!.subjects, []);
    // A bodiless DELETE sent with a JSON content type.
    assert.deepEqual(await call('DELETE', '/recognition/faces?subject=nobody', { type: 'application/json' }), {
      status: 200,
      body: { deleted: 0 },
    });
    // No face (28), a body too large (413), a route's validation (26): all { message, code }.
    const blank = await call('POST', '/detection/detect', {
      body: photo('face_recognition/_format_test/test_32bit.png'),
    });
    assert.ok(blank.status === 200 || blank.body['code'] === 28, JSON.stringify(blank.body));
    // 26 MB declared: the server answers from the length alone. (Streaming the whole body raced the
    // server's reply and reset on a loaded machine: "fetch failed" instead of a status.)
    const big = await new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const u = new URL(`${server.url}/api/v1/detection/detect`);
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { 'x-api-key': operatorKey, 'content-type': 'application/json', 'content-length': 26 * 2 ** 20 },
        },
        (res) => {
          let s = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (s += d));
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(s) as Record<string, unknown> });
          });
        },
      );
      req.on('error', reject);
      req.write('{"file":"AAAA');
    });
    assert.equal(big.status, 413);
    assert.deepEqual(Object.keys(big.body).sort(), ['code', 'message', 'veil_code']);
    const invalid = await call('POST', '/recognition/subjects', { json: { name: 'x' } });
    assert.deepEqual([invalid.status, invalid.body['code']], [400, 26]);
  });
});
