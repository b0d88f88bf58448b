// `npm run bench [name...]`: runs each benchmark in its own process (so peak RSS and model loading
// are its own), prints markdown tables, and writes raw results to bench/results/<name>.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCHES, OPT_IN, render, type Results } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const results: Results = {};

for (const name of BENCHES) {
  if (only.length && !only.some((o) => name.startsWith(o))) continue;
  // The scale bench builds a 1M gallery (SCALE=10M: 10M): only when named, `npm run bench scale`.
  if (!only.length && OPT_IN.includes(name)) continue;
  process.stderr.write(`bench: ${name} ...\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.bench.ts`)], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) {
    process.stderr.write(`bench: ${name} failed with exit code ${r.status}\n`);
    process.exitCode = 1;
    continue;
  }
  results[name] = JSON.parse(r.stdout.trim().split('\n').pop()!);
}

mkdirSync(join(here, 'results'), { recursive: true });
const stamp = { date: new Date().toISOString(), node: process.version, cpus: cpus().length };
for (const [name, res] of Object.entries(results))
  writeFileSync(join(here, 'results', `${name}.json`), JSON.stringify({ ...stamp, ...res }, null, 2) + '\n');
process.stdout.write(render(results) + '\n');
