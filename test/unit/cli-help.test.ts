import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../src/cli/main.js';
import { COMMANDS } from '../../src/cli/help.js';
import { adminKeyBox } from '../../src/cli/serve.commands.js';
import { startLog } from '../../src/app/server-log.js';
import type { Io } from '../../src/cli/output.js';

function io() {
  const o = { out: '', err: '' };
  const x: Io = { out: (t) => void (o.out += t), err: (t) => void (o.err += t), stderrIsTty: false };
  return { o, x };
}
// A data directory that does not exist: help must never need one (nor create one).
const env = { VEIL_DATA_DIR: '/nonexistent/veil-help-test' };
// Commands read process.env themselves (run()'s env is for settings it reads first).
process.env['VEIL_DATA_DIR'] = env.VEIL_DATA_DIR;

test('--help works on every command and subcommand: its usage on stdout, exit 0, no data directory', async () => {
  const cases: string[][] = [['--help'], ['-h'], ['help']];
  for (const [cmd, c] of Object.entries(COMMANDS)) {
    cases.push([cmd, '--help'], ['help', cmd]);
    for (const sub of Object.keys(c.subs ?? {})) if (!sub.includes(' ')) cases.push([cmd, sub, '--help']);
  }
  for (const argv of cases) {
    const { o, x } = io();
    const code = await run(argv, x, env);
    assert.equal(code, 0, `veil ${argv.join(' ')}: ${o.err}`);
    assert.match(o.out, /usage: veil|veil \w+: |^veil - /, `veil ${argv.join(' ')}`);
    assert.equal(o.err, '', `veil ${argv.join(' ')}`);
  }
  const { o, x } = io();
  await run(['rights', 'verify', '--help'], x, env);
  assert.match(o.out, /^usage: veil rights verify <req_id> --code CODE/);
  const main = io();
  await run(['--help'], main.x, env);
  assert.match(main.o.out, /data directory \/nonexistent\/veil-help-test/);
  for (const cmd of Object.keys(COMMANDS)) assert.match(main.o.out, new RegExp(`\\n  ${cmd} `));
});

test('a command run where there is no data directory names it and exits 1 (never creates one); bad usage exits 2', async () => {
  const { o, x } = io();
  assert.equal(await run(['purpose', 'list'], x, env), 1);
  assert.match(o.err, /^veil: NOT_FOUND: no Veil data directory at \/nonexistent\/veil-help-test .*veil init/);
  const bad = io();
  assert.equal(await run(['frobnicate'], bad.x, env), 2);
  assert.match(bad.o.err, /unknown command 'frobnicate'/);
  const noOut = io();
  assert.equal(await run(['redact', 'med_x'], noOut.x, env), 2);
  assert.match(noOut.o.err, /usage: veil redact <media-id> --out FILE.jpg/);
});

test('the first admin key comes in a box, with how to make another one', () => {
  const box = adminKeyBox('veil_key_abc_secret');
  const lines = box.trim().split('\n');
  assert.ok(
    lines.every((l) => l.length === lines[0]!.length),
    'a rectangle',
  );
  assert.match(box, /\|\s+veil_key_abc_secret\s+\|/);
  assert.match(box, /npx veil keys create --role admin --purpose '\*'/);
});

test('server log: short human lines on a terminal, JSON lines otherwise', () => {
  let human = '';
  startLog({ json: false, write: (t) => (human += t) }).warn('disk nearly full');
  assert.equal(human, 'veil: WARNING: disk nearly full\n');
  let json = '';
  startLog({ json: true, write: (t) => (json += t) }).info('hello');
  assert.deepEqual({ ...JSON.parse(json), time: 0 }, { level: 30, time: 0, msg: 'hello' });
  // A background failure: its fields (a stack) as fields of the JSON line, or indented under a human one.
  const fields = { runId: 'reemb_1', stack: 'Error: x\n    at f (a.ts:1:2)' };
  json = '';
  startLog({ json: true, write: (t) => (json += t) }).error('run failed', fields);
  assert.deepEqual({ ...JSON.parse(json), time: 0 }, { level: 50, time: 0, msg: 'run failed', ...fields });
  human = '';
  startLog({ json: false, write: (t) => (human += t) }).error('run failed', fields);
  assert.equal(human, 'veil: ERROR: run failed\n  runId: reemb_1\n  stack: Error: x\n    at f (a.ts:1:2)\n');
});
