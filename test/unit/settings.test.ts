import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isVeilError } from '../../src/errors.js';
import { loadSettings, maskedSettings, SETTINGS, type Env } from '../../src/config/settings.js';
import { configurationDoc, DOC_PATH } from '../../scripts/settings-doc.js';
import { tempDir } from '../../support/temp-dir.js';

// Not test/helpers.ts: it pulls in the store, and this test should not depend on it.
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const noFile = (p: string): string => {
  throw Object.assign(new Error(`no file ${p}`), { code: 'ENOENT' });
};
const withFile = (json: unknown) => (p: string) => (p === '/etc/veil.json' ? JSON.stringify(json) : noFile(p));

function invalid(env: Env, readFile = noFile): string {
  try {
    loadSettings(env, readFile);
  } catch (e) {
    assert.ok(isVeilError(e) && e.code === 'INVALID_INPUT', String(e));
    return e.message;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

const MASTER = 'ab'.repeat(32);
const PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHS3cr3tPr1vAT3Ky\n-----END PRIVATE KEY-----';
const SECRET_ENV = {
  VEIL_MASTER_KEY: MASTER,
  VEIL_AUDIT_SIGNING_KEY: PEM,
  DATABASE_URL: 'postgres://veil:pg-pass-123@db:5432/veil?sslpassword=ssl-pass-456&application_name=veil',
  VEIL_API_KEY: 'veil_api_token_789',
  VEIL_URL: 'https://ops:url-pass-000@veil.example.org',
};
const FILE_SECRET = 'smtp-pass-321';
const SECRETS = [MASTER, 'MC4CAQAwBQYDK2VwBCIEIHS3cr3tPr1vAT3Ky', 'pg-pass-123', 'ssl-pass-456', 'veil_api_token_789'];
SECRETS.push('url-pass-000', FILE_SECRET);

test('defaults: every setting has one that the embedded mode can run with', () => {
  const s = loadSettings({}, noFile);
  assert.equal(s.dataDir, resolve('./data'));
  assert.equal(s.host, '127.0.0.1');
  assert.equal(s.port, 8080);
  assert.equal(s.databaseUrl, undefined);
  assert.equal(s.autoMigrate, true);
  assert.equal(s.masterKey, undefined);
  assert.deepEqual(s.audit, { checkpointEvery: 1000, checkpointSeconds: 60 });
  assert.equal(s.controller, 'Veil operator');
  assert.equal(s.mail.from, 'Veil <privacy@localhost>');
  assert.deepEqual(s.engine, {
    workers: availableParallelism(),
    queue: 32,
    timeoutMs: 20_000,
    warmUp: 8,
    flushTinyWeights: true,
    embedders: [],
    embedder: 'faceplugin-fr_feature@0.0.1',
  });
  assert.equal(s.trustProxy, false);
  assert.equal(s.log, 'on');
  assert.equal(s.metrics.public, false);
  assert.equal(s.limits.publicPhotoBytes, 10 * 2 ** 20);
  assert.equal(s.limits.publicJsonBytes, 64 * 2 ** 10);
  assert.equal(s.limits.bodyBytes, 25 * 2 ** 20);
  assert.deepEqual(s.oversight.controller, { name: 'Veil operator', contact: 'privacy@localhost' });
  assert.deepEqual(s.oversight.transfers, []);
  assert.equal(s.oversight.searchLogRetention, 'P1Y');
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.engine) && Object.isFrozen(s.oversight.transfers));
  assert.ok(maskedSettings(s).every((r) => r.source === 'default'));
});

test('precedence: defaults < config file < environment, with the source of each value', () => {
  const file = { port: 9000, engine: { workers: 3, queue: 8 }, audit: { checkpointEvery: 5 }, controller: 'Acme' };
  const env = { VEIL_CONFIG: '/etc/veil.json', VEIL_PORT: '9100', VEIL_ENGINE_QUEUE: '', VEIL_LOG: 'off' };
  const s = loadSettings(env, withFile(file));
  assert.equal(s.port, 9100);
  assert.equal(s.engine.workers, 3);
  assert.equal(s.engine.queue, 8, 'an empty variable is unset, so the file value stays');
  assert.equal(s.audit.checkpointEvery, 5);
  assert.equal(s.audit.checkpointSeconds, 60);
  assert.equal(s.log, 'off');
  assert.equal(s.oversight.controller.name, 'Acme', 'the record of processing follows the controller setting');
  const from = Object.fromEntries(maskedSettings(s).map((r) => [r.key, r.source]));
  assert.equal(from['port'], 'env');
  assert.equal(from['engine.workers'], 'file');
  assert.equal(from['configFile'], 'env');
  assert.equal(from['host'], 'default');
});

test('booleans accept true/false/1/0; the proxy setting also takes addresses', () => {
  for (const [v, want] of [
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['TRUE', true],
  ] as const) {
    assert.equal(loadSettings({ VEIL_AUTO_MIGRATE: v }, noFile).autoMigrate, want, v);
    assert.equal(loadSettings({ VEIL_METRICS_PUBLIC: v }, noFile).metrics.public, want, v);
  }
  // true would believe any client's own X-Forwarded-For: refused, saying why and what to set instead.
  for (const v of ['true', 'TRUE', ' true '])
    assert.match(invalid({ VEIL_TRUST_PROXY: v }), /VEIL_TRUST_PROXY.*any client.*name the proxies/s, v);
  assert.equal(loadSettings({ VEIL_TRUST_PROXY: 'false' }, noFile).trustProxy, false);
  assert.match(invalid({ VEIL_TRUST_PROXY: '1' }), /trustProxy \(VEIL_TRUST_PROXY\)/, 'not a hop count, not "any"');
  assert.deepEqual(loadSettings({ VEIL_TRUST_PROXY: '10.0.0.0/8, ::1,loopback' }, noFile).trustProxy, [
    '10.0.0.0/8',
    '::1',
    'loopback',
  ]);
  assert.equal(loadSettings({ VEIL_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }, noFile).masterKey?.length, 44);
});

test('every invalid setting is named with its key path and environment variable', () => {
  const bad: Record<string, [string, string]> = {
    port: ['VEIL_PORT', '65536'],
    databaseUrl: ['DATABASE_URL', 'mysql://root:pw@db/veil'],
    autoMigrate: ['VEIL_AUTO_MIGRATE', 'yes'],
    masterKey: ['VEIL_MASTER_KEY', 'abcdef'],
    'audit.checkpointEvery': ['VEIL_AUDIT_CHECKPOINT_EVERY', '0'],
    'audit.checkpointSeconds': ['VEIL_AUDIT_CHECKPOINT_SECONDS', 'soon'],
    'mail.smtpUrl': ['VEIL_SMTP_URL', 'http://mail'],
    'mail.from': ['VEIL_MAIL_FROM', 'nobody'],
    'engine.workers': ['VEIL_ENGINE_WORKERS', '0'],
    'engine.queue': ['VEIL_ENGINE_QUEUE', '-1'],
    'engine.timeoutMs': ['VEIL_ENGINE_TIMEOUT_MS', '1.5'],
    'engine.warmUp': ['VEIL_ENGINE_WARMUP', '101'],
    'engine.flushTinyWeights': ['VEIL_ENGINE_FLUSH_TINY_WEIGHTS', 'maybe'],
    trustProxy: ['VEIL_TRUST_PROXY', 'proxy.example.org'],
    log: ['VEIL_LOG', 'verbose'],
    'metrics.public': ['VEIL_METRICS_PUBLIC', 'maybe'],
    'limits.publicPhotoBytes': ['VEIL_LIMITS_PUBLIC_PHOTO_BYTES', '10MB'],
    'limits.publicJsonBytes': ['VEIL_LIMITS_PUBLIC_JSON_BYTES', '0'],
    'limits.bodyBytes': ['VEIL_LIMITS_BODY_BYTES', 'x'],
    'limits.publicPerIpPerMinute': ['VEIL_LIMITS_PUBLIC_PER_IP_PER_MINUTE', '0'],
    'limits.publicPerContactPerHour': ['VEIL_LIMITS_PUBLIC_PER_CONTACT_PER_HOUR', 'many'],
    'limits.codeResendsPerRequest': ['VEIL_LIMITS_CODE_RESENDS_PER_REQUEST', '-2'],
    'oversight.searchLogRetention': ['VEIL_OVERSIGHT_SEARCH_LOG_RETENTION', 'a year'],
    'remote.url': ['VEIL_URL', 'veil.example.org'],
  };
  for (const [key, [env, value]] of Object.entries(bad)) {
    const msg = invalid({ [env]: value });
    assert.ok(msg.startsWith(`Invalid configuration: ${key} (${env}): `), msg);
  }
  // All at once: one message lists each of them.
  const all = invalid(Object.fromEntries(Object.values(bad)));
  for (const [key, [env]] of Object.entries(bad)) assert.ok(all.includes(`${key} (${env}): `), `${key} in ${all}`);
  // A rejected secret is named, never echoed.
  assert.doesNotMatch(invalid({ VEIL_MASTER_KEY: 'not-a-key-s3cr3t' }), /s3cr3t/);
  assert.doesNotMatch(invalid({ DATABASE_URL: 'mysql://root:s3cr3t@db' }), /s3cr3t/);
});

test('the config file: structured settings, unknown keys, environment-only keys, unreadable files', () => {
  const file = (json: unknown) => ({ VEIL_CONFIG: '/etc/veil.json', json });
  const load = ({ VEIL_CONFIG, json }: { VEIL_CONFIG: string; json: unknown }) =>
    invalid({ VEIL_CONFIG }, withFile(json));
  const ok = loadSettings(
    { VEIL_CONFIG: '/etc/veil.json' },
    withFile({ oversight: { dpo: { name: 'Ana', email: 'dpo@acme.eu' }, transfers: ['US: SCCs'] }, port: null }),
  );
  assert.deepEqual(ok.oversight.dpo, { name: 'Ana', email: 'dpo@acme.eu' });
  assert.deepEqual(ok.oversight.transfers, ['US: SCCs']);
  assert.equal(ok.port, 8080, 'null counts as unset');
  assert.match(
    load(file({ oversight: { dpo: { name: 'Ana', email: 'nope' } } })),
    /oversight\.dpo\.email \(config file\)/,
  );
  assert.match(load(file({ engine: { worker: 2 } })), /engine\.worker \(config file\): unknown setting/);
  assert.match(load(file({ engine: 2 })), /engine \(config file\): expected an object/);
  assert.match(
    load(file({ remote: { apiKey: 'k' } })),
    /remote\.apiKey \(VEIL_API_KEY\): can only be set in the environment/,
  );
  assert.match(load(file({ port: 'http' })), /port \(VEIL_PORT\): expected an integer \(value from the config file\)/);
  assert.match(load(file([1])), /configFile \(VEIL_CONFIG\): \/etc\/veil.json is not a JSON object/);
  assert.match(
    invalid({ VEIL_CONFIG: '/nope.json' }),
    /configFile \(VEIL_CONFIG\): \/nope.json is not readable \(ENOENT\)/,
  );
  // The parser's message quotes the file; the file may hold secrets.
  const broken = invalid({ VEIL_CONFIG: '/etc/veil.json' }, () => '{"masterKey": s3cr3t}');
  assert.match(broken, /is not valid JSON/);
  assert.doesNotMatch(broken, /s3cr3t/);
});

test('maskedSettings never shows a secret, and shows URLs without their passwords', () => {
  const s = loadSettings(
    { ...SECRET_ENV, VEIL_CONFIG: '/etc/veil.json' },
    withFile({ mail: { smtpUrl: `smtps://mailer:${FILE_SECRET}@smtp.example.org:465` } }),
  );
  const rows = maskedSettings(s);
  const text = JSON.stringify(rows);
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked`);
  const value = Object.fromEntries(rows.map((r) => [r.key, r.value]));
  assert.equal(value['masterKey'], '••••(set)');
  assert.equal(value['auditSigningKey'], '••••(set)');
  assert.equal(value['remote.apiKey'], '••••(set)');
  assert.equal(value['databaseUrl'], 'postgres://veil:****@db:5432/veil?sslpassword=****&application_name=veil');
  assert.equal(value['mail.smtpUrl'], 'smtps://mailer:****@smtp.example.org:465');
  assert.equal(value['remote.url'], 'https://ops:****@veil.example.org/');
  assert.equal(rows.find((r) => r.key === 'mail.smtpUrl')?.source, 'file');
});

test('the table: one documented row per setting, and every variable src/ reads is in it', () => {
  const envs = SETTINGS.flatMap((r) => (r.setting.env ? [r.setting.env] : []));
  assert.equal(new Set(envs).size, envs.length, 'environment variables are unique');
  for (const { key, setting } of SETTINGS) assert.ok(setting.doc.length > 10 && setting.defaultDoc, key);
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
  const read = files(join(REPO, 'src'))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => readFileSync(f, 'utf8').match(/\b(VEIL_[A-Z0-9_]+|DATABASE_URL)\b/g) ?? []);
  for (const name of new Set(read)) assert.ok(envs.includes(name), `${name} is read in src/ but is not a setting`);
});

test('docs/configuration.md is what the table generates', async () => {
  const committed = readFileSync(DOC_PATH, 'utf8');
  assert.equal(committed, await configurationDoc(), 'run: node --import tsx scripts/settings-doc.ts');
  for (const { key } of SETTINGS) assert.ok(committed.includes('`' + key + '`'), key);
});

test('veil config: masked table and one JSON document from the real CLI; --help exits 0', () => {
  const dir = tempDir('veil-config-');
  const config = join(dir, 'veil.json');
  writeFileSync(config, JSON.stringify({ mail: { smtpUrl: `smtp://mailer:${FILE_SECRET}@smtp:25` } }));
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('VEIL_') && k !== 'DATABASE_URL'),
  );
  const dataDir = join(dir, 'data');
  const env = { ...base, ...SECRET_ENV, VEIL_CONFIG: config, VEIL_DATA_DIR: dataDir, VEIL_PORT: '9001' };
  const veil = (args: string[], extra: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [join(REPO, 'bin/veil.mjs'), ...args], {
      encoding: 'utf8',
      env: { ...env, ...extra },
      timeout: 60_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  const json = veil(['config', '--json']);
  assert.equal(json.code, 0, json.err);
  type Row = { key: string; env: string | null; value: unknown; source: string };
  const rows = (JSON.parse(json.out) as { settings: Row[] }).settings;
  assert.deepEqual(
    rows.map((r) => r.key),
    SETTINGS.map((r) => r.key),
  );
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
  assert.deepEqual(byKey['port'], { ...byKey['port'], value: 9001, source: 'env' });
  assert.equal(byKey['mail.smtpUrl']?.source, 'file');
  assert.equal(byKey['dataDir']?.value, dataDir);
  const human = veil(['config']);
  assert.equal(human.code, 0, human.err);
  assert.match(human.out, /engine\.workers\s+VEIL_ENGINE_WORKERS\s+\d+\s+default/);
  for (const out of [json.out, json.err, human.out, human.err])
    for (const secret of SECRETS) assert.ok(!out.includes(secret), `${secret} leaked`);
  assert.ok(!existsSync(dataDir), 'showing the configuration creates nothing');

  const help = veil(['config', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /usage: veil config/);
  const bad = veil(['config'], { VEIL_ENGINE_WORKERS: 'lots' });
  assert.equal(bad.code, 1);
  assert.match(bad.err, /INVALID_INPUT: Invalid configuration: engine\.workers \(VEIL_ENGINE_WORKERS\)/);
  assert.equal(veil(['config', '--nope']).code, 2);
});
