import { OVERSIGHT_COMMANDS } from './help.oversight.js';

/**
 * Every command's usage, in one place: `veil --help`, `veil <command> --help`,
 * `veil <command> <sub> --help` and `veil help <command> [sub]` print from here (exit 0, before
 * any data directory is opened), and commands quote the same lines in their usage errors.
 */
interface Sub {
  /** What follows `veil <command> ` (for a command without subcommands, what follows `veil <command>`). */
  readonly usage: string;
  readonly about: string;
}

export interface CommandHelp {
  readonly summary: string;
  /** A command used as `veil <command> <sub> ...`. */
  readonly subs?: Readonly<Record<string, Sub>>;
  /** A command used as `veil <command> ...` (no subcommand). */
  readonly usage?: Sub;
  readonly notes?: string;
}

const JSON_NOTE = 'Every command takes --json (one JSON document on stdout).';

export const COMMANDS: Readonly<Record<string, CommandHelp>> = {
  init: {
    summary: 'create the data directory here (database, master key, audit signing key)',
    usage: {
      usage: '[--json]',
      about:
        'Creates the data directory (VEIL_DATA_DIR, default ./data) with its database and keys. Only `veil init` and\n`veil serve` create one: every other command refuses to start on a missing data directory.',
    },
  },
  serve: {
    summary: 'the HTTP API, its docs and the web UI (npm start)',
    usage: {
      usage: '[--host H] [--port P] [--log-json]',
      about:
        'Serves the API (/v1), its docs (/docs) and the web UI; creates the data directory on the first start and\nprints an admin API key once. The request log is short lines on a terminal, JSON lines otherwise or with --log-json.',
    },
  },
  config: {
    summary: 'every setting: effective value (secrets masked), where it came from, what it does',
    usage: {
      usage: '[--json]',
      about:
        'Every setting with its config file key, environment variable, effective value (secrets masked),\nwhere the value came from (default < file < env) and what it does. Precedence: defaults, then the\nJSON file named by VEIL_CONFIG, then the environment. Exit 1 names each invalid setting.',
    },
  },
  keys: {
    summary: 'API keys bound to a role and purposes; keys rotate-master: a new master key',
    subs: {
      create: {
        usage:
          'create --role admin|operator|investigator|dpo|auditor --purpose KEY [--purpose KEY]... [--name N]\n' +
          '       [--compreface [--source-reference TEXT] [--justification TEXT]]',
        about:
          "a new API key (the token is shown once); --purpose '*' binds it to every purpose. --compreface: a key for\n" +
          'CompreFace clients (x-api-key), operator or admin, bound to exactly one purpose; --source-reference is recorded\n' +
          'for faces added under a non-consent basis, --justification for every search (default: the client and purpose)',
      },
      list: { usage: 'list', about: 'every key with its role, purposes and state' },
      revoke: { usage: 'revoke <key-id>', about: 'refused from the next request on, in every process' },
      'rotate-master': {
        usage: 'rotate-master [--new-key-file FILE]',
        about:
          'with every other Veil process stopped: a new master key, every data key rewrapped under it,\neverything sealed under derived keys sealed again. FILE: 64 hex digits or base64 of 32 bytes (a key you\nkeep in a secret store); without it the key is generated into master.key. Run it again if it stopped halfway.',
      },
    },
    notes: JSON_NOTE,
  },
  migrate: {
    summary: 'apply pending schema migrations (or --status); run before starting new servers',
    usage: {
      usage: '[--status] [--json]',
      about:
        "Applies pending schema migrations to DATABASE_URL (or the data directory's SQLite file); --status lists them.",
    },
  },
  db: {
    summary: 'db check: connection, schema, audit log, keys, erased subjects, files, change feed',
    subs: {
      check: {
        usage: 'check [--repair] [--json]',
        about:
          'checks connection, schema, audit log, keys, erased subjects, stored files and the index change feed;\nexit 1 on any failure',
      },
    },
  },
  backup: {
    summary: 'a copy of the database and sealed files that never holds a key',
    usage: {
      usage: '--out DIR [--json]',
      about:
        "A consistent copy of the embedded SQLite database (VACUUM INTO: no free pages) and the sealed files\nunder images/, media/ and exports/, with a manifest. Never the keystore (keys/) nor master.key: a\nbackup holding keys would bring back everyone erased after it was taken. PostgreSQL: use pg_dump and\n'veil restore --replay-only' (docs/deploy.md).",
    },
  },
  restore: {
    summary: 'put a backup in place and replay the erasures made since',
    usage: {
      usage:
        'DIR [--previous-master-key FILE] [--json]  |  veil restore --replay-only [--previous-master-key FILE] [--json]',
      about:
        "With every Veil process stopped: sets the database and sealed files in place aside, puts the backup in\nDIR there, then erases again everyone the keystore says was erased since the backup was taken.\n--replay-only runs just that last step against the configured database (after a pg_restore).\nA backup taken before 'veil keys rotate-master' needs the master key it was taken under, in FILE\n(64 hex digits): what it holds sealed under that key's derived keys is sealed again under the\ncurrent one. Without it such a restore refuses before changing anything.",
    },
  },
  faces: {
    summary: 'detect, embed, compare faces; calibrate thresholds; switch the active model (status, reembed)',
    subs: {
      detect: { usage: 'detect <image...> [--json]', about: 'faces with box, score, five landmarks, quality' },
      embed: { usage: 'embed <image...> --jsonl', about: 'one JSON line per image with 512-d embeddings' },
      compare: {
        usage: 'compare <a> <b> [--threshold T] [--json]',
        about: 'MATCH / NO MATCH with the similarity and threshold',
      },
      calibrate: {
        usage: 'calibrate <dir> [--target-fmr F] [--model ID [--save]] [--json]',
        about:
          'FMR/FNMR and the threshold at FMR F (default 0.001) on a folder laid out as <identity>/<image>;\n--model ID: a model declared in VEIL_MODELS; --save: also fit its impostor tail (what the open-set\nrule of its identifications reads) and keep both beside its file, needed before it is used. Refused\n(CALIBRATION_SET_TOO_SMALL) under 10/F different-person pairs; with --save, under 400 people and\n200,000 different-person pairs (docs/accuracy.md)',
      },
      status: {
        usage: 'status [--json]',
        about: 'templates per model id; only the active model (VEIL_EMBEDDER) matches',
      },
      reembed: {
        usage: 'reembed [--dry-run] [--model ID] [--json]',
        about:
          'templates of other models made again under the active one from kept photos; lists who must\nre-enroll where the purpose keeps no photo (subject, purpose, consent). Resumable; audited.\nOne run at a time, here or through the API: refused with JOB_RUNNING and its id while one runs.\nA run goes toward the model of the latest run (MODEL_MISMATCH otherwise); --model ID: the model\nmeant (the active one), to switch or roll back on purpose (docs/models.md: rolling switch)',
      },
    },
  },
  audit: {
    summary: 'signed tree heads, proofs, export and offline verification of the audit log',
    subs: {
      pubkey: {
        usage: 'pubkey [--out FILE] [--json]',
        about: 'the signing public key and its id; --out writes the PEM',
      },
      head: { usage: 'head [--json]', about: 'sign a tree head over the whole log now' },
      prove: { usage: 'prove <seq> [--json]', about: 'inclusion proof of entry <seq> against the latest signed head' },
      consistency: { usage: 'consistency <m> <n> [--json]', about: 'consistency proof between tree sizes m < n' },
      export: {
        usage: 'export [--from N] [--to N] --out FILE',
        about: 'entries + signed heads + public keys as JSON lines',
      },
      verify: {
        usage: 'verify <export> [--pubkey FILE]... [--json]',
        about: 'recompute everything, no database needed: OK, or the first bad entry or head',
      },
      'rotate-key': { usage: 'rotate-key [--json]', about: 'new signing key, cross-signed with the old one' },
    },
  },
  purpose: {
    summary: 'create and list processing purposes (lawful basis, retention); set their target FPIR',
    subs: {
      create: {
        usage:
          'create --key K --name N --description D --basis B [--art9 C] [--legal-ref TEXT] [--retention P1Y]\n         [--recipient R]... [--requires-case-ref] [--keep-images]',
        about:
          'a purpose: B is consent, contract, legal-obligation, vital-interests, public-task or legitimate-interests;\nretention at most P3Y after the last interaction',
      },
      list: { usage: 'list', about: 'purposes with basis, retention, state and gallery size' },
      'set-fpir': {
        usage: 'set-fpir <purpose> <rate>',
        about:
          "the target false-positive identification rate of the purpose's searches, 0.0001 to 0.05\n(default 0.01); audited with the old and new value",
      },
    },
    notes: JSON_NOTE,
  },
  consent: {
    summary: 'record or withdraw consent; signed receipts',
    subs: {
      give: {
        usage:
          'give --purpose P --notice-file F --notice-version V --method portal|api|paper --collector C\n         [--subject S] [--email E] [--receipt-out FILE]',
        about:
          'records consent to the notice in F; --email links the address the person can later prove in a rights request',
      },
      withdraw: { usage: 'withdraw <consent-id>', about: 'stops matching at once and deletes the templates' },
    },
    notes: JSON_NOTE,
  },
  subject: {
    summary: "enroll a subject's face under a purpose",
    subs: {
      enroll: {
        usage: 'enroll --purpose P (--consent C | --subject S | --source-ref R) <image...>',
        about: 'templates from the photos (one face each); a consent purpose needs --consent',
      },
    },
    notes: JSON_NOTE,
  },
  identify: {
    summary: "1:N search of a purpose's gallery (with case reference or justification)",
    usage: {
      usage: '--purpose P <image> (--case-ref R | --justification J) [--k N] [--max-faces N] [--threshold T] [--json]',
      about:
        'Every face in the photo (at most 20, largest first), a line each: its box and its candidates above the threshold, best first, with the estimated false-match rate.',
    },
  },
  matches: {
    summary: "confirm or reject an identification's matches (two-person rule, EU AI Act Art. 14(5))",
    subs: {
      list: { usage: 'list <search-id> [--json]', about: "the search's matches, their state and who decided what" },
      confirm: {
        usage: 'confirm <search-id> --face N --subject S [--json]',
        about:
          'counts once as many different keys confirmed as the purpose requires (faces numbered as identify prints them)',
      },
      reject: { usage: 'reject <search-id> --face N --subject S [--json]', about: 'one rejection is final' },
    },
  },
  verify: {
    summary: '1:1 check against a subject or a second photo',
    usage: {
      usage: '--purpose P <image> (--subject S | --against IMAGE) (--case-ref R | --justification J) [--json]',
      about: 'MATCH / NO MATCH with the similarity and threshold.',
    },
  },
  ingest: {
    summary: 'match operator photos (a folder) against consenting subjects; resumable',
    usage: {
      usage: '--purpose P <folder-or-files...> [--json | --jsonl]',
      about:
        'One line per photo: its media id (for `veil redact`), faces and sightings of enrolled people.\nAlready-ingested photos are skipped, so a stopped run resumes.',
    },
  },
  media: {
    summary: 'ingested photos: media ids, faces, sightings',
    subs: {
      list: {
        usage: 'list [--purpose P] [--limit N] [--cursor C] [--json]',
        about: 'photos of the purposes you may see, oldest first; the next page with --cursor',
      },
    },
  },
  redact: {
    summary: 'a photo with every face blurred except consenting matches',
    usage: {
      usage: '<media-id> --out FILE.jpg [--json]',
      about: 'Media ids are printed by `veil ingest` and listed by `veil media list`.',
    },
  },
  ...OVERSIGHT_COMMANDS,
};

/** The usage of one subcommand (or of a command without subcommands), for usage errors. */
export function usageOf(cmd: string, sub?: string): string {
  const c = COMMANDS[cmd];
  const s = sub ? c?.subs?.[sub] : c?.usage;
  if (!s) return helpFor(cmd) ?? `veil ${cmd}`;
  return `usage: veil ${cmd} ${s.usage}`;
}

/** `veil <cmd> --help` or `veil <cmd> <sub> --help`; null for an unknown command. */
export function helpFor(cmd: string, sub?: string): string | null {
  const c = COMMANDS[cmd];
  if (!c) return null;
  const s = sub ? c.subs?.[sub] : undefined;
  if (s) return `usage: veil ${cmd} ${s.usage}\n${indent(s.about)}\n`;
  if (c.usage) return `usage: veil ${cmd} ${c.usage.usage}\n${indent(c.usage.about)}\n`;
  const lines = Object.values(c.subs ?? {}).map((x) => `  veil ${cmd} ${x.usage}\n${indent(x.about, 6)}`);
  return `veil ${cmd}: ${c.summary}\n\n${lines.join('\n')}\n${c.notes ? `\n${c.notes}\n` : ''}`;
}

function indent(text: string, n = 2): string {
  return text
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
}

/** `veil --help`. */
export function mainHelp(dataDir: string): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `veil - face recognition that is lawful by construction

usage: veil [--url URL --key TOKEN] <command> [options]

With --url (or VEIL_URL and VEIL_API_KEY) commands run against a Veil server. Otherwise they work on
the data directory ${dataDir} (VEIL_DATA_DIR; default ./data in the working directory).

${Object.entries(COMMANDS)
  .map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`)
  .join('\n')}

Run 'veil <command> --help' for a command's options. Exit codes: 0 success, 1 a user or data error
(its code is in the message), 2 bad usage.
`;
}
