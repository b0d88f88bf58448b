import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { bool, int, isoDuration, masterKey, setting, trustProxy, urlWithScheme } from './setting.js';
import { EmbedderDeclarationsSetting, SHIPPED_EMBEDDER } from '../face/model-declaration.js';

const KB = 2 ** 10;
const MB = 2 ** 20;

/**
 * Every Veil setting. The nesting is the config file's key path; each row names its environment
 * variable, type, default, whether it is secret and its documentation line, and the schema, the
 * typed Settings, `veil config` and docs/configuration.md all come from here.
 */
export const TABLE = {
  configFile: setting({
    env: 'VEIL_CONFIG',
    envOnly: true,
    type: z.string().min(1),
    doc: 'Path of the JSON configuration file; its values sit between the defaults and the environment.',
  }),
  dataDir: setting({
    env: 'VEIL_DATA_DIR',
    type: z
      .string()
      .min(1)
      .transform((p) => resolve(p)),
    default: './data',
    doc: 'Directory of the SQLite file, generated keys, stored images and the mail outbox (relative to the working directory).',
  }),
  host: setting({
    env: 'VEIL_HOST',
    type: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Address the API listens on.',
  }),
  port: setting({
    env: 'VEIL_PORT',
    type: int(0, 65535),
    default: 8080,
    doc: 'Port the API listens on (0: any free).',
  }),
  databaseUrl: setting({
    env: 'DATABASE_URL',
    secret: 'url',
    type: urlWithScheme(['postgres', 'postgresql'], 'a postgres:// URL'),
    doc: 'PostgreSQL database for the server engine; unset: the SQLite file in the data directory.',
  }),
  autoMigrate: setting({
    env: 'VEIL_AUTO_MIGRATE',
    type: bool(),
    default: true,
    doc: "Apply pending schema migrations on start; false: servers refuse an outdated schema until 'veil migrate' ran.",
  }),
  masterKey: setting({
    env: 'VEIL_MASTER_KEY',
    secret: 'value',
    type: masterKey(),
    doc: 'Key wrapping every subject key (64 hex digits or base64 of 32 bytes); unset: <dataDir>/master.key, generated on first start.',
  }),
  auditSigningKey: setting({
    env: 'VEIL_AUDIT_SIGNING_KEY',
    secret: 'value',
    type: z.string().min(1),
    doc: 'Ed25519 key signing audit tree heads, as PEM text or the path of a PEM file; unset: <dataDir>/audit-signing-key.pem, generated.',
  }),
  audit: {
    checkpointEvery: setting({
      env: 'VEIL_AUDIT_CHECKPOINT_EVERY',
      type: int(1),
      default: 1000,
      doc: 'Sign a tree head after this many audit entries.',
    }),
    checkpointSeconds: setting({
      env: 'VEIL_AUDIT_CHECKPOINT_SECONDS',
      type: int(1),
      default: 60,
      doc: 'Sign a tree head at least this often (seconds) while entries arrive.',
    }),
  },
  controller: setting({
    env: 'VEIL_CONTROLLER',
    type: z.string().min(1),
    default: 'Veil operator',
    doc: 'Name of the controller printed on consent and rights receipts.',
  }),
  mail: {
    smtpUrl: setting({
      env: 'VEIL_SMTP_URL',
      secret: 'url',
      type: urlWithScheme(['smtp', 'smtps'], 'an smtp:// or smtps:// URL'),
      doc: 'Mail server for messages to people (verification codes); unset: .eml files in <dataDir>/outbox.',
    }),
    from: setting({
      env: 'VEIL_MAIL_FROM',
      type: z.string().regex(/@/, 'expected an address like Name <privacy@example.org>'),
      default: 'Veil <privacy@localhost>',
      doc: 'Sender of messages to people.',
    }),
  },
  engine: {
    workers: setting({
      env: 'VEIL_ENGINE_WORKERS',
      type: int(1, 1024),
      default: () => availableParallelism(),
      defaultDoc: 'number of CPU cores',
      doc: 'Face engine worker threads of the server.',
    }),
    queue: setting({
      env: 'VEIL_ENGINE_QUEUE',
      type: int(0),
      default: 32,
      doc: 'Face engine jobs waiting for a worker before requests are refused (ENGINE_OVERLOADED).',
    }),
    timeoutMs: setting({
      env: 'VEIL_ENGINE_TIMEOUT_MS',
      type: int(1),
      default: 20_000,
      doc: 'Milliseconds one face engine job may take (ENGINE_TIMEOUT).',
    }),
    warmUp: setting({
      env: 'VEIL_ENGINE_WARMUP',
      type: int(0, 100),
      default: 8,
      doc: 'Passes of a synthetic photo through every stage of each engine worker before the server serves: a fresh engine costs 2-5x more per photo for its first few calls, which made the p99 of identify (0: no warm-up).',
    }),
    flushTinyWeights: setting({
      env: 'VEIL_ENGINE_FLUSH_TINY_WEIGHTS',
      type: bool(),
      default: true,
      doc: "Zero the shipped models' weights below 1e-15 as they load: the same results (bit-identical embeddings on the project's photos), the embedder's CPU from 56 to 8 ms a face on the project's Intel machine, where those near-zero weights made subnormal arithmetic (false: the weights as shipped, for comparison).",
    }),
    embedders: setting({
      env: 'VEIL_MODELS',
      type: EmbedderDeclarationsSetting,
      default: [],
      doc: 'Face embedders brought by the operator: a JSON array of {id, file, sha256, inputSize, channelOrder, normalisation, alignment, layout, outputDimensions} (docs/models.md).',
    }),
    embedder: setting({
      env: 'VEIL_EMBEDDER',
      type: z.string().min(1),
      default: SHIPPED_EMBEDDER.id,
      doc: "Id of the active embedder: the shipped one or one declared in VEIL_MODELS, calibrated first with 'veil faces calibrate --model <id> --save'.",
    }),
  },
  trustProxy: setting({
    env: 'VEIL_TRUST_PROXY',
    type: trustProxy(),
    default: false,
    doc: 'Proxies whose X-Forwarded-For is believed (per-IP limits depend on it): false, or comma-separated addresses/CIDRs (or loopback, linklocal, uniquelocal). Not true: any client could then forge its address.',
  }),
  log: setting({
    env: 'VEIL_LOG',
    type: z.enum(['on', 'off']),
    default: 'on',
    doc: 'Request log of the server (on or off).',
  }),
  sqliteCheckpoint: setting({
    env: 'VEIL_SQLITE_CHECKPOINT',
    type: z.enum(['commit', 'background']),
    default: 'commit',
    doc: "Who copies SQLite's write-ahead log into the database file in the server: 'commit' (SQLite's own: the commit that fills 1,000 pages, on the event loop) or 'background' (experimental: a worker thread every 200 ms; not shown to cut identify's tail on a shared disk, see docs/benchmarks.md). Durability is the same either way.",
  }),
  serverTiming: setting({
    env: 'VEIL_SERVER_TIMING',
    type: bool(),
    default: false,
    doc: 'Add a Server-Timing header of stage times (auth, body, engine queue and stages, search, store writes, serialisation) to every API answer: for measuring where latency goes; stage names and milliseconds only.',
  }),
  searchThreads: setting({
    env: 'VEIL_SEARCH_THREADS',
    type: int(1, 2),
    default: 2,
    doc: 'Threads of one search of a large quantised gallery (from 131,072 templates): 2 splits its memory-bound Hamming stages with one helper thread per process (about a third less latency at 1M, the same CPU; docs/benchmarks.md, Scale step 11); 1 keeps every search on one thread.',
  }),
  metrics: {
    public: setting({
      env: 'VEIL_METRICS_PUBLIC',
      type: bool(),
      default: false,
      doc: 'Serve /metrics without an API key.',
    }),
  },
  limits: {
    publicPhotoBytes: setting({
      env: 'VEIL_LIMITS_PUBLIC_PHOTO_BYTES',
      type: int(1),
      default: 10 * MB,
      defaultDoc: '10485760 (10 MiB)',
      doc: 'Largest photo a public (unauthenticated) route accepts, in bytes.',
    }),
    publicJsonBytes: setting({
      env: 'VEIL_LIMITS_PUBLIC_JSON_BYTES',
      type: int(1),
      default: 64 * KB,
      defaultDoc: '65536 (64 KiB)',
      doc: 'Largest JSON body a public route accepts, in bytes.',
    }),
    bodyBytes: setting({
      env: 'VEIL_LIMITS_BODY_BYTES',
      type: int(1),
      default: 25 * MB,
      defaultDoc: '26214400 (25 MiB)',
      doc: 'Largest request body an authenticated route accepts, in bytes.',
    }),
    publicPerIpPerMinute: setting({
      env: 'VEIL_LIMITS_PUBLIC_PER_IP_PER_MINUTE',
      type: int(1),
      default: 30,
      doc: 'Requests per minute one client address may make to public routes.',
    }),
    publicPerContactPerHour: setting({
      env: 'VEIL_LIMITS_PUBLIC_PER_CONTACT_PER_HOUR',
      type: int(1),
      default: 5,
      doc: 'Rights requests per hour for one contact address.',
    }),
    codeResendsPerRequest: setting({
      env: 'VEIL_LIMITS_CODE_RESENDS_PER_REQUEST',
      type: int(0),
      default: 3,
      doc: 'Times a verification code may be resent for one rights request.',
    }),
  },
  oversight: {
    controller: setting({
      type: z.object({ name: z.string().min(1), contact: z.string().min(3) }).strict(),
      // Follows `controller` so receipts and the record of processing name the same controller.
      default: (raw) => ({ name: raw('controller'), contact: 'privacy@localhost' }),
      defaultDoc: 'name: the controller setting; contact: privacy@localhost',
      doc: 'Controller identity and contact in the record of processing and the DPIA.',
    }),
    dpo: setting({
      type: z
        .object({ name: z.string().min(1), email: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'expected an email address') })
        .strict(),
      default: { name: 'Data protection officer', email: 'dpo@localhost' },
      doc: 'Data protection officer named in the record of processing and on the rights pages.',
    }),
    transfers: setting({
      type: z.array(z.string().min(1)),
      default: [],
      doc: 'Transfers outside the EEA with their safeguards, one sentence each; empty when there are none.',
    }),
    searchLogRetention: setting({
      env: 'VEIL_OVERSIGHT_SEARCH_LOG_RETENTION',
      type: isoDuration(),
      default: 'P1Y',
      doc: 'How long search accounting (probe hashes, who searched, results) is kept, as an ISO 8601 duration.',
    }),
  },
  drp: {
    businessId: setting({
      env: 'VEIL_DRP_BUSINESS_ID',
      type: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'letters, digits, _ . - (at most 100)'),
      doc: "This deployment's business-id in the Data Rights Protocol; unset: authorized agents cannot file requests (the DRP endpoints answer 404).",
    }),
    publicUrl: setting({
      env: 'VEIL_PUBLIC_URL',
      type: urlWithScheme(['http', 'https'], 'an https:// URL'),
      doc: "Where people and agents reach this Veil (https://...), for the DRP api_base, verification and result links; unset: the server's own listening address.",
    }),
    name: setting({
      env: 'VEIL_DRP_NAME',
      type: z.string().min(1).max(200),
      default: (raw) => raw('controller'),
      defaultDoc: 'the controller setting',
      doc: 'Name of this business in its DRP directory entry.',
    }),
    privacyPolicyUrl: setting({
      env: 'VEIL_DRP_PRIVACY_POLICY_URL',
      type: urlWithScheme(['http', 'https'], 'an https:// URL'),
      doc: 'Privacy policy link of the DRP directory entry; unset: the portal.',
    }),
    loopbackCallbacks: setting({
      env: 'VEIL_DRP_LOOPBACK_CALLBACKS',
      type: bool(),
      default: false,
      doc: 'Let agents registered with an http://127.0.0.1 or http://localhost callback origin receive callbacks (tests, local development only).',
    }),
  },
  remote: {
    url: setting({
      env: 'VEIL_URL',
      envOnly: true,
      // Only its password, if the URL carries one, is secret.
      secret: 'url',
      type: urlWithScheme(['http', 'https'], 'an http:// or https:// URL'),
      doc: 'CLI remote mode: run commands against this Veil server (same as --url).',
    }),
    apiKey: setting({
      env: 'VEIL_API_KEY',
      envOnly: true,
      secret: 'value',
      type: z.string().min(1),
      doc: 'CLI remote mode: the API key sent to the server (same as --key).',
    }),
  },
};
