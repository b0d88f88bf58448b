// Server mode: enroll and identify throughput on SQLite and PostgreSQL, with one API process
// (2 engine workers) and two API processes (1 worker each) on the same 2 cores, in the same run;
// and how long an erasure committed through one process takes to stop matches in the other.
// PostgreSQL rows need VEIL_BENCH_PG_URL (or VEIL_TEST_PG_URL): an admin URL; scripts/pg-test-cluster.sh prints one.
import { actors } from '../src/auth/actor.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { openVeil } from '../src/app/veil.js';
import { FaceEngine } from '../src/face/engine.js';
import { VeilClient } from '../src/client/client.js';
import type { PurposeId } from '../src/ids.js';
import { seedRandomGallery, benchPurpose } from './seed.js';
import { median, percentile } from './stats.js';
import { FACES } from '../support/faces.js';
import { createDatabase, tempDir } from '../support/database.js';
import { spawnServer, type ServerProcess } from '../support/server-process.js';
import { startSmtp } from '../support/smtp.js';

const GALLERY = Number(process.env['CLUSTER_BENCH_GALLERY'] ?? 10_000);
const IDENTIFY_SECONDS = Number(process.env['CLUSTER_BENCH_SECONDS'] ?? 12);
const ENROLL_SECONDS = Math.max(5, Math.round(IDENTIFY_SECONDS * 0.8));
const ROUNDS = 15;
const CONNECTIONS = 8;
const pgAdmin = process.env['VEIL_BENCH_PG_URL'] ?? process.env['VEIL_TEST_PG_URL'];
const NOTICE = 'We match your face against event photos to find the pictures you appear in.';
const actor = actors.system('bench');

const jpgs = (d: string) =>
  readdirSync(join(FACES, 'deepface_small', d))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => join(FACES, 'deepface_small', d, f));
// One photo per person for enrollment; a second photo of the first person to probe for them.
const people = readdirSync(join(FACES, 'deepface_small'))
  .filter((d) => d.startsWith('id'))
  .sort();
const photos = people.map((d) => readFileSync(jpgs(d)[0]!));
const probe = readFileSync(join(FACES, 'deepface_small/id01/img2.jpg')).toString('base64');
const engine = await FaceEngine.create();
const smtp = await startSmtp();

/** The peak resident memory of a process (Linux), MB: model weights, engine workers and the index replica. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function identifyLoad(servers: ServerProcess[], token: string) {
  const body = JSON.stringify({ purpose: 'events', image: probe, justification: 'load test' });
  const run = (url: string, connections: number) =>
    new Promise<autocannon.Result>((resolve, reject) =>
      autocannon(
        {
          url: `${url}/v1/identify`,
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
          connections,
          duration: IDENTIFY_SECONDS,
        },
        (e, r) => (e ? reject(e) : resolve(r)),
      ),
    );
  // The same 8 connections in total, split evenly over the processes.
  const rs = await Promise.all(servers.map((s) => run(s.url, CONNECTIONS / servers.length)));
  return {
    rps: rs.reduce((a, r) => a + r.requests.average, 0),
    p50: Math.max(...rs.map((r) => r.latency.p50)),
    p99: Math.max(...rs.map((r) => r.latency.p99)),
    errors: rs.reduce((a, r) => a + r.errors + r.non2xx + r.timeouts, 0),
  };
}

async function enrollLoad(clients: VeilClient[]) {
  let done = 0;
  let errors = 0;
  const until = performance.now() + ENROLL_SECONDS * 1000;
  // 4 people enrolling at once (consent record, then enrollment), spread over the processes.
  await Promise.all(
    [0, 1, 2, 3].map(async (w) => {
      const c = clients[w % clients.length]!;
      for (let i = w; performance.now() < until; i += 4) {
        try {
          const { consent } = await c.giveConsent({
            purpose: 'events',
            noticeText: NOTICE,
            noticeVersion: '1',
            method: 'api',
            collector: 'bench',
          });
          // Everyone but the first person, who is kept for the propagation rounds.
          await c.enroll({
            purpose: 'events',
            consentId: consent.id,
            images: [photos[1 + (i % (photos.length - 1))]!],
          });
          done++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { perSecond: done / ENROLL_SECONDS, enrolled: done, errors };
}

/** Enroll through A, wait for B to match; erase through A (the full rights request), time until B stops matching. */
async function propagation(a: VeilClient, b: VeilClient) {
  const enrollMs: number[] = [];
  const eraseMs: number[] = [];
  const identifyMs: number[] = [];
  const person = photos[0]!;
  const again = readFileSync(jpgs(people[0]!)[1]!);
  const seenBy = async (c: VeilClient) => {
    const t = performance.now();
    const r = await c.identify({ purpose: 'events', image: again, justification: 'propagation' });
    identifyMs.push(performance.now() - t);
    return r.decision === 'match';
  };
  const waitFor = async (want: boolean) => {
    const t0 = performance.now();
    while ((await seenBy(b)) !== want)
      if (performance.now() - t0 > 10_000) throw new Error('no propagation within 10 s');
    return performance.now() - t0;
  };
  for (let round = 0; round < ROUNDS; round++) {
    const email = `p${round}.${randomBytes(3).toString('hex')}@example.org`;
    const { consent } = await a.giveConsent({
      purpose: 'events',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 'bench',
      contactEmail: email,
    });
    await a.enroll({ purpose: 'events', consentId: consent.id, images: [person] });
    enrollMs.push(await waitFor(true));
    const req = await a.submitRequest({ kind: 'erasure', email });
    await a.verifyRequest(req.requestId, smtp.codeFor(email));
    await a.fulfilRequest(req.requestId);
    eraseMs.push(await waitFor(false));
  }
  return {
    rounds: ROUNDS,
    enrollMs: { median: median(enrollMs), max: Math.max(...enrollMs) },
    erasureMs: { median: median(eraseMs), max: Math.max(...eraseMs) },
    identifyMs: { median: median(identifyMs), p99: percentile(identifyMs, 99) },
  };
}

/** One database with a seeded gallery, measured with both topologies in alternating rounds. */
async function engineRuns(engineName: 'sqlite' | 'postgres') {
  const dataDir = tempDir('veil-cluster-bench-');
  const databaseUrl = engineName === 'postgres' && pgAdmin ? await createDatabase(pgAdmin, 'veil_bench_') : undefined;
  const v = await openVeil({ dataDir, engine, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
  const purpose = await benchPurpose(v, 'events');
  await seedRandomGallery(v, purpose.id as PurposeId, GALLERY);
  const { token } = await v.apiKeys.create(actor, { name: 'bench', role: 'admin', purposes: ['*'] });
  await v.close();
  const start = async (processes: 1 | 2) => {
    const env = {
      VEIL_DATA_DIR: dataDir,
      VEIL_SMTP_URL: smtp.url,
      VEIL_ENGINE_WORKERS: String(2 / processes),
      VEIL_ENGINE_QUEUE: '64',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    };
    const servers: ServerProcess[] = [];
    for (let i = 0; i < processes; i++) servers.push(await spawnServer(env));
    return servers;
  };
  // The machine is noisy: the two topologies alternate (ABBAAB), and medians are reported.
  const rounds: Record<
    1 | 2,
    {
      identify: Awaited<ReturnType<typeof identifyLoad>>;
      enroll: Awaited<ReturnType<typeof enrollLoad>>;
      rssMb: number[];
    }[]
  > = { 1: [], 2: [] };
  for (const processes of [1, 2, 2, 1, 1, 2] as const) {
    const servers = await start(processes);
    try {
      const identify = await identifyLoad(servers, token);
      const enroll = await enrollLoad(servers.map((x) => new VeilClient(x.url, token)));
      rounds[processes].push({ identify, enroll, rssMb: servers.map((x) => peakRssMb(x.child.pid!)) });
      process.stderr.write(
        `cluster: ${engineName} x${processes}: identify ${identify.rps.toFixed(1)}/s, enroll ${enroll.perSecond.toFixed(1)}/s\n`,
      );
    } finally {
      await Promise.all(servers.map((x) => x.stop()));
    }
  }
  const servers = await start(2);
  let prop;
  try {
    prop = await propagation(new VeilClient(servers[0]!.url, token), new VeilClient(servers[1]!.url, token));
  } finally {
    await Promise.all(servers.map((x) => x.stop()));
  }
  return ([1, 2] as const).map((processes) => {
    const rs = rounds[processes];
    const m = (f: (r: (typeof rs)[number]) => number) => median(rs.map(f));
    return {
      engine: engineName,
      processes,
      workersPerProcess: 2 / processes,
      rounds: rs.length,
      identify: {
        rps: m((r) => r.identify.rps),
        p50: m((r) => r.identify.p50),
        p99: m((r) => r.identify.p99),
        errors: rs.reduce((a, r) => a + r.identify.errors, 0),
        perRound: rs.map((r) => r.identify.rps),
      },
      enroll: {
        perSecond: m((r) => r.enroll.perSecond),
        errors: rs.reduce((a, r) => a + r.enroll.errors, 0),
        perRound: rs.map((r) => r.enroll.perSecond),
      },
      peakRssMb: rs[0]!.rssMb.map((_, i) => Math.max(...rs.map((r) => r.rssMb[i]!))),
      propagation: processes === 2 ? prop : null,
    };
  });
}

const runs = [];
for (const e of pgAdmin ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const))
  runs.push(...(await engineRuns(e)));
await smtp.close();
if (!pgAdmin) process.stderr.write('cluster: no VEIL_BENCH_PG_URL / VEIL_TEST_PG_URL, PostgreSQL rows skipped\n');
process.stdout.write(
  JSON.stringify({
    gallery: GALLERY,
    identifySeconds: IDENTIFY_SECONDS,
    enrollSeconds: ENROLL_SECONDS,
    connections: CONNECTIONS,
    runs,
  }) + '\n',
);
