// How high a real mate ranks by 128-bit short-code Hamming distance among face-like distractors (the
// pre-selection of src/vector/code-scan.ts), for the shipped sparse directions and for the top 128
// principal directions of an 8,192-row sample (covariance, then subspace iteration). Not timed.
// `SHORT_N=100000 nice -n 10 node --import tsx bench/scale/short-code.ts`
import { lfwEmbeddings } from './lfw.js';
import { splitProbes } from './probes.js';
import { fitDistractors, sampleDistractors, Gaussian } from '../../support/distractors.js';
import { shortCode, meanOf } from '../../src/vector/code-scan.js';
const D = 512;
const B = 128;
const N = Number(process.env['SHORT_N'] ?? 100000);
const set = splitProbes(await lfwEmbeddings());
const model = fitDistractors(set.fit, D);
const M = set.mates.length;
const all = new Float32Array((N + M) * D);
set.mates.forEach((v, i) => all.set(v, i * D));
const rng = new Gaussian(1);
for (let at = 0; at < N; at += 65536) sampleDistractors(model, Math.min(65536, N - at), rng, all, M + at);
const row = (r: number) => all.subarray(r * D, (r + 1) * D);
const total = N + M;
const centre = meanOf(
  (function* () {
    for (let r = 0; r < Math.min(total, 32768); r++) yield row(r);
  })(),
);
// PCA of a sample of 8192 rows (covariance, then subspace iteration for the top 128).
const S = 8192;
const cov = new Float64Array(D * D);
const x = new Float64Array(D);
for (let s = 0; s < S; s++) {
  const v = row(Math.floor((s * total) / S));
  for (let j = 0; j < D; j++) x[j] = v[j]! - centre[j]!;
  for (let a = 0; a < D; a++) {
    const xa = x[a]!;
    const o = a * D;
    for (let b = a; b < D; b++) cov[o + b]! += xa * x[b]!;
  }
}
for (let a = 0; a < D; a++) for (let b = 0; b < a; b++) cov[a * D + b] = cov[b * D + a]!;
let V = Float64Array.from({ length: D * B }, () => rng.next()); // column-major: V[c*D + j]
const orth = (W: Float64Array) => {
  for (let c = 0; c < B; c++) {
    for (let p = 0; p < c; p++) {
      let d = 0;
      for (let j = 0; j < D; j++) d += W[c * D + j]! * W[p * D + j]!;
      for (let j = 0; j < D; j++) W[c * D + j]! -= d * W[p * D + j]!;
    }
    let n = 0;
    for (let j = 0; j < D; j++) n += W[c * D + j]! ** 2;
    n = Math.sqrt(n);
    for (let j = 0; j < D; j++) W[c * D + j]! /= n;
  }
};
orth(V);
for (let it = 0; it < 25; it++) {
  const W = new Float64Array(D * B);
  for (let c = 0; c < B; c++)
    for (let a = 0; a < D; a++) {
      let s = 0;
      const o = a * D;
      for (let b = 0; b < D; b++) s += cov[o + b]! * V[c * D + b]!;
      W[c * D + a] = s;
    }
  orth(W);
  V = W;
}
const P = Float32Array.from(V);
const pcaCode = (v: Float32Array, out: Uint8Array, at: number) => {
  for (let b = 0; b < 16; b++) {
    let byte = 0;
    for (let t = 0; t < 8; t++) {
      const c = b * 8 + t;
      let s = 0;
      for (let j = 0; j < D; j++) s += P[c * D + j]! * (v[j]! - centre[j]!);
      if (s > 0) byte |= 1 << t;
    }
    out[at + b] = byte;
  }
};
const pop = new Uint8Array(256);
for (let i = 0; i < 256; i++) pop[i] = (i.toString(2).match(/1/g) ?? []).length;
for (const kind of ['sparse', 'pca'] as const) {
  const codes = new Uint8Array(total * 16);
  const code = (v: Float32Array, out: Uint8Array, at: number) =>
    kind === 'sparse' ? shortCode(v, 0, 1, centre, out, at) : pcaCode(v, out, at);
  for (let r = 0; r < total; r++) code(row(r), codes, r * 16);
  const q = new Uint8Array(16);
  const ranks: number[] = [];
  set.mated.forEach((p, i) => {
    code(p, q, 0);
    const dist = (r: number) => {
      let d = 0;
      for (let b = 0; b < 16; b++) d += pop[codes[r * 16 + b]! ^ q[b]!]!;
      return d;
    };
    const dm = dist(i);
    let at = 0;
    for (let r = 0; r < total; r++) if (dist(r) <= dm) at++;
    ranks.push(at / total);
  });
  ranks.sort((a, b) => a - b);
  const within = (s: number) => ranks.filter((r) => r <= s).length;
  console.log(
    kind,
    'n',
    total,
    'mates within 0.5%/1%/2%/3%:',
    within(0.005),
    within(0.01),
    within(0.02),
    within(0.03),
    'of',
    ranks.length,
    'worst 3 shares',
    ranks
      .slice(-3)
      .map((r) => r.toFixed(4))
      .join(' '),
  );
}
