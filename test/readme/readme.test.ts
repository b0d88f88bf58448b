/**
 * The README, run: every ```sh block of README.md, in order, against a fresh data directory, as a
 * newcomer would type it after `npm ci`. The test fails at the first command that exits non-zero,
 * writes to stderr what the README does not show, or prints something the README's `# ->` lines
 * do not describe.
 *
 * Conventions for whoever writes a README section (keep them, and the README stays runnable):
 *
 *  1. Every ```sh (or ```bash) block runs, top to bottom, with bash, in one fresh working folder:
 *     the folder of a fresh checkout, so `./data` is the data directory and files a command writes
 *     (`order.json`, `access.zip`) are there for the next one. `npx veil ...` and `veil ...` run this
 *     checkout's bin/veil.mjs. Other commands (curl, cat, grep, unzip, jq) run as they are.
 *  2. A command is the lines bash needs to finish it: `\` continuations, quotes over several lines
 *     and here-documents (`cat > f <<'JSON' ... JSON`) make one command.
 *  3. `# -> TEXT` (at the end of the command's line, or on lines of their own below it) must be found
 *     in the command's stdout, in order. TEXT is literal except that `...` matches anything on one
 *     line and a space matches any run of spaces (or none), so `{"id": "con_..."}` matches compact JSON.
 *     `# 2> TEXT` does the same for stderr; stderr without a `# 2>` line fails the test.
 *  4. Values a reader copies from earlier output are written as placeholders (PLACEHOLDERS below): an
 *     id as its prefix and `...` (`con_...`, `req_...`, `med_...`: the latest such id printed by an
 *     earlier command), the admin key as `veil_key_...`, the emailed code as `123456`, the download
 *     token as `<download-token>`. Add an entry when you need a new one.
 *  5. `NAME=value` lines (on their own) stay set for the commands after them, as in one terminal.
 *  6. Photos: the README names photos for what they are (`selfie.jpg`, `event-photos/`); PHOTOS below
 *     maps each name to a real photo of ../shared/faces, copied into the working folder first.
 *  7. `localhost:8080` is the server the runner started (next point) on a free port.
 *  8. A line `<!-- readme: skip WHY -->` just before a fence: the block is not run; the runner prints
 *     how many it skipped and why. Keep these few: only what needs a long-running process or a
 *     system the test does not have (`npm ci` itself, a PostgreSQL cluster, benchmarks).
 *     `<!-- readme: server -->` before the block that starts the server (`npm start`): the runner
 *     starts `veil serve` itself on this working folder instead, keeps it running for the blocks
 *     after it, and counts its admin key as printed output (for `veil_key_...`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FACES, REPO, tempDir } from '../helpers.js';
import { spawnServer, type ServerProcess } from '../../support/server-process.js';

/** README photo names -> files or folders under ../shared/faces. */
const PHOTOS: Record<string, string | string[]> = {
  'selfie.jpg': 'face_recognition/obama/test_obama.jpg',
  'photo.jpg': 'face_recognition/obama/test_obama2.jpg',
  'probe.jpg': 'face_recognition/obama/test_obama3.jpg',
  // Selfies for identity proof pass the liveness check (test_obama3.jpg would not).
  'me.jpg': 'face_recognition/obama/ex_obama-480p.jpg',
  'a.jpg': 'face_recognition/obama/test_obama2.jpg',
  'b.jpg': 'face_recognition/biden/test_biden.jpg',
  'event-photos': 'face_recognition/_multi_face',
  // 13 people, 61 photos: 1,690 different-person pairs, enough for a threshold at FMR 1% (1,000 needed).
  'labelled-dir': 'deepface_small',
};

/** Placeholder in a README command -> the value it stands for: the last match in everything printed so far. */
const PLACEHOLDERS: { text: RegExp; value: (prefix: string) => RegExp }[] = [
  // veil_key_... (an API key), con_..., sub_..., req_..., med_..., ord_..., brc_..., key_... (an API key's id).
  {
    text: /(?<![\w-])(veil_key_|con_|sub_|req_|med_|ord_|brc_|key_|pur_)\.\.\./g,
    value: (p) => new RegExp(`(?<![\\w-])${p}[A-Za-z0-9_-]+`, 'g'),
  },
  { text: /\b123456\b/g, value: () => /code: (\d{6})/g },
  { text: /<download-token>/g, value: () => /download token (\S+)/g },
];

interface Command {
  readonly line: number;
  text: string;
  readonly expect: string[];
  readonly stderr: string[];
}
interface Block {
  readonly line: number;
  readonly marker: { kind: 'skip' | 'server'; why: string } | null;
  readonly commands: Command[];
}

/** Whether bash sees a whole command (here-documents closed, no trailing `\`, quotes closed). */
function complete(text: string): boolean {
  const lines = text.split('\n');
  if (lines.at(-1)!.trimEnd().endsWith('\\')) return false;
  for (const m of text.matchAll(/<<-?\s*['"]?(\w+)['"]?/g))
    if (!lines.slice(1).some((l) => l.trim() === m[1])) return false;
  return spawnSync('bash', ['-n', '-c', text]).status === 0;
}

function parse(md: string): Block[] {
  const lines = md.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*```(sh|bash)\s*$/.test(lines[i]!)) continue;
    let p = i - 1;
    while (p >= 0 && !lines[p]!.trim()) p--;
    const m = p >= 0 ? /<!--\s*readme:\s*(skip|server)\s*(.*?)\s*-->/.exec(lines[p]!) : null;
    const block: Block = { line: i + 1, marker: m ? { kind: m[1] as 'skip', why: m[2]! } : null, commands: [] };
    let open: Command | null = null;
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) {
      const raw = lines[i]!.replace(/^ {0,4}/, '');
      if (open) {
        open.text += '\n' + raw;
      } else {
        const t = raw.trim();
        const last = block.commands.at(-1);
        const exp = /^#\s*(->|2>)\s?(.*)$/.exec(t);
        if (exp && last) {
          (exp[1] === '->' ? last.expect : last.stderr).push(exp[2]!);
          continue;
        }
        if (!t || t.startsWith('#')) continue;
        open = { line: i + 1, text: raw, expect: [], stderr: [] };
        block.commands.push(open);
      }
      if (complete(open.text)) {
        // An expectation at the end of the command's last line is not part of the command (nor its placeholders).
        const lines = open.text.split('\n');
        const inline = /\s#\s*(->|2>)\s?(.*)$/.exec(lines.at(-1)!);
        if (inline) {
          (inline[1] === '->' ? open.expect : open.stderr).push(inline[2]!);
          lines[lines.length - 1] = lines.at(-1)!.slice(0, inline.index);
          open.text = lines.join('\n');
        }
        open = null;
      }
    }
    blocks.push(block);
  }
  return blocks;
}

/** `# ->` text as a pattern: `...` is anything on one line, a space any run of white space. */
function pattern(text: string): RegExp {
  const esc = text
    .trim()
    .split('...')
    .map((part) =>
      part
        .split(/\s+/)
        .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('\\s*'),
    )
    .join('[^\\n]*?');
  return new RegExp(esc);
}

function lastMatch(history: string, re: RegExp): string | null {
  let found: string | null = null;
  for (const m of history.matchAll(re)) found = m[1] ?? m[0];
  return found;
}

function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

test('every command of the README runs, in order, on a fresh data directory, and prints what the README says', async (t) => {
  const blocks = parse(readFileSync(join(REPO, 'README.md'), 'utf8'));
  const work = tempDir('veil-readme-');
  for (const [name, src] of Object.entries(PHOTOS)) {
    if (Array.isArray(src)) {
      mkdirSync(join(work, name), { recursive: true });
      for (const f of src) cpSync(join(FACES, f), join(work, name, f.split('/').at(-1)!));
    } else cpSync(join(FACES, src), join(work, name), { recursive: true });
  }
  // A newcomer's shell: none of this suite's VEIL_* or DATABASE_URL settings.
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: work, LANG: 'C.UTF-8', REPO };
  const preamble = [
    'set -o pipefail',
    `npx() { if [ "$1" = veil ]; then shift; node "$REPO/bin/veil.mjs" "$@"; else echo "readme runner: npx $1 is not run" >&2; return 127; fi; }`,
    'veil() { node "$REPO/bin/veil.mjs" "$@"; }',
  ];
  let history = '';
  let server: ServerProcess | null = null;
  const skipped: string[] = [];
  let ran = 0;
  try {
    for (const b of blocks) {
      if (b.marker?.kind === 'skip') {
        skipped.push(`README.md:${b.line} (${b.commands.length} command(s)): ${b.marker.why}`);
        continue;
      }
      if (b.marker?.kind === 'server') {
        server = await spawnServer({ VEIL_DATA_DIR: join(work, 'data'), VEIL_LOG: 'off' });
        history += `store it now: ${server.adminToken}\n`;
        skipped.push(`README.md:${b.line}: started by the runner instead (${server.url})`);
        continue;
      }
      for (const c of b.commands) {
        let cmd = c.text;
        for (const p of PLACEHOLDERS)
          cmd = cmd.replace(p.text, (whole, prefix: string) => {
            const v = lastMatch(history, p.value(prefix));
            assert.ok(v, `README.md:${c.line}: nothing printed before it matches ${whole}`);
            return v;
          });
        if (server) cmd = cmd.replace(/(localhost|127\.0\.0\.1):8080/g, new URL(server.url).host);
        const r = await runBash([...preamble, cmd].join('\n'), work, env);
        ran++;
        const where = `README.md:${c.line}: ${cmd}\n--- exit ${r.code}\n--- stdout\n${r.out}--- stderr\n${r.err}`;
        assert.equal(r.code, 0, `non-zero exit\n${where}`);
        if (r.err.trim() && !c.stderr.length) assert.fail(`stderr the README does not show\n${where}`);
        let rest = r.out;
        for (const e of c.expect) {
          const m = pattern(e).exec(rest);
          assert.ok(m, `stdout does not show '# -> ${e}' (after the lines before it)\n${where}`);
          rest = rest.slice(m.index + m[0].length);
        }
        for (const e of c.stderr) assert.match(r.err, pattern(e), `stderr does not show '# 2> ${e}'\n${where}`);
        history += r.out + r.err;
        if (/^[A-Za-z_][A-Za-z0-9_]*=\S/.test(cmd) && !cmd.includes('\n')) preamble.push(cmd);
      }
    }
  } finally {
    if (server) await server.stop();
  }
  t.diagnostic(`${ran} README commands run; ${skipped.length} block(s) not run:`);
  for (const why of skipped) t.diagnostic(`  ${why}`);
  assert.ok(ran > 40, `only ${ran} commands found in the README`);
});
