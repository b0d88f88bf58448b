/**
 * The Hamming-distance kernel of the quantised index, as WebAssembly SIMD (wasm SIMD128 is on by
 * default in Node 20: V8 maps i8x16.popcnt to a pshufb lookup on x86-64 and to CNT on ARM). No native
 * build step: the module is encoded here, a few hundred bytes, from the instruction list below.
 *
 * Exports, over one linear memory imported as env.mem (codes are 64 bytes: 512 sign bits):
 *   scan(codes, n, query, dist, hist): dist[i] (u16) = popcount(codes[i] ^ query); hist[d] (u32) += 1
 *   scanShort(codes, n, query, dist, hist): the same over 16-byte codes (128 bits)
 *   gather(codes, n, query, dist, hist, rows): the same over the 64-byte codes of the n rows listed at rows (u32)
 *   under(codes, n, query, cutoff, out, max): scanShort and collect in one pass, no distance or histogram kept
 *   collect(dist, n, cutoff, out, max): writes the row numbers i with dist[i] <= cutoff into out (u32),
 *     at most max of them; returns how many
 *   dots(rows, n, query, out): out[i] (i32) = the exact dot product of the i-th 512-byte int8 row at rows
 *     with the 512 int16 components at query (int8-dot.wasm.ts)
 */

import {
  add,
  c32,
  extaddI16U,
  extaddI8U,
  get,
  i16x8Add,
  I32,
  i32x4Extract,
  op,
  popcnt,
  section,
  loopBelow,
} from './wasm-encode.js';
import { set, uleb, V128, v128Load, v128Xor, vec } from './wasm-encode.js';
import { underBody, underLocals } from './under.wasm.js';
import { dotsBody, dotsLocals } from './int8-dot.wasm.js';

// scan(codes=0, n=1, query=2, dist=3, hist=4[, rows=5]): the Hamming distance of `words` 16-byte words per
// code, over n consecutive codes, or (gather) over the codes at the n row numbers (u32) at `rows`.
// locals: end, ptr, addr (i32), q0.. (v128, one per word), acc (v128), d (i32)
const hammingBody = (words: number, gather: boolean): number[] => {
  const P = gather ? 6 : 5;
  const [END, PTR, ADDR, Q, ACC, D] = [P, P + 1, P + 2, P + 3, P + 3 + words, P + 4 + words];
  const W = [...Array(words).keys()];
  const codeShift = Math.log2(16 * words);
  return [
    ...W.flatMap((w) => [...get(2), ...v128Load(16 * w), ...set(Q + w)]),
    // ptr = codes (or rows); end = ptr + n * step
    ...get(gather ? 5 : 0),
    op.localTee,
    PTR,
    ...get(1),
    ...c32(gather ? 2 : codeShift),
    op.i32Shl,
    op.i32Add,
    ...set(END),
    ...loopBelow(PTR, END),
    // addr = ptr, or codes + rows[i] * 64
    ...(gather ? [...get(0), ...get(PTR), op.i32Load, 2, 0, ...c32(6), op.i32Shl, op.i32Add] : get(PTR)),
    ...set(ADDR),
    // acc = sum over the words of pairwise-added popcounts (u16 lanes, at most 64 each)
    ...W.flatMap((w) => [
      ...get(ADDR),
      ...v128Load(16 * w),
      ...get(Q + w),
      ...v128Xor,
      ...popcnt,
      ...extaddI8U,
      ...(w ? [...get(ACC), ...i16x8Add] : []),
      ...set(ACC),
    ]),
    ...get(ACC),
    ...extaddI16U,
    ...set(ACC),
    ...[0, 1, 2, 3].flatMap((lane) => [...get(ACC), ...i32x4Extract(lane), ...(lane ? [op.i32Add] : [])]),
    op.localTee,
    D,
    // dist[i] = d; dist += 2
    ...get(3),
    ...get(D),
    op.i32Store16,
    1,
    0,
    ...add(3, 2),
    // hist[d] += 1
    ...get(4),
    ...get(D),
    ...c32(2),
    op.i32Shl,
    op.i32Add,
    ...set(D),
    ...get(D),
    ...get(D),
    op.i32Load,
    2,
    0,
    ...c32(1),
    op.i32Add,
    op.i32Store,
    2,
    0,
    ...add(PTR, gather ? 4 : 16 * words),
    op.br,
    0,
    op.end,
    op.end,
    op.end,
  ];
};

// collect(dist=0, n=1, cutoff=2, out=3, max=4) -> count; locals: i=5, found=6
const collectBody = [
  ...loopBelow(5, 1),
  ...get(6),
  ...get(4),
  op.i32GeU,
  op.brIf,
  1,
  // if dist[i] <= cutoff: out[found++] = i   (written always, advanced only on a hit)
  ...get(3),
  ...get(6),
  ...c32(2),
  op.i32Shl,
  op.i32Add,
  ...get(5),
  op.i32Store,
  2,
  0,
  ...get(6),
  ...get(0),
  ...get(5),
  ...c32(1),
  op.i32Shl,
  op.i32Add,
  op.i32Load16u,
  1,
  0,
  ...get(2),
  op.i32GtU,
  // found += (dist <= cutoff): i32.eqz of (dist > cutoff)
  0x45,
  op.i32Add,
  ...set(6),
  ...add(5, 1),
  op.br,
  0,
  op.end,
  op.end,
  ...get(6),
  op.end,
];

const hammingLocals = (words: number) => [
  [3, I32],
  [words + 1, V128],
  [1, I32],
];

function moduleBytes(): Uint8Array {
  const types = section(
    1,
    vec([
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0],
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 1, I32],
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0],
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 1, I32],
      [0x60, ...vec([[I32], [I32], [I32], [I32]]), 0],
    ]),
  );
  // (import "env" "mem" (memory 1 65536 shared)): limits flag 3, a maximum and shared
  const enc = (s: string) => vec([...Buffer.from(s)].map((b) => [b]));
  const imports = section(2, vec([[...enc('env'), ...enc('mem'), 0x02, 0x03, ...uleb(1), ...uleb(MAX_PAGES)]]));
  const funcs = section(3, vec([[0], [1], [0], [2], [3], [4]]));
  const exports = section(
    7,
    vec([
      [...enc('scan'), 0x00, 0],
      [...enc('collect'), 0x00, 1],
      [...enc('scanShort'), 0x00, 2],
      [...enc('gather'), 0x00, 3],
      [...enc('under'), 0x00, 4],
      [...enc('dots'), 0x00, 5],
    ]),
  );
  const body = (locals: number[][], code: number[]) => {
    const b = [...vec(locals), ...code];
    return [...uleb(b.length), ...b];
  };
  const code = section(
    10,
    vec([
      body(hammingLocals(4), hammingBody(4, false)),
      body([[2, I32]], collectBody),
      body(hammingLocals(1), hammingBody(1, false)),
      body(hammingLocals(4), hammingBody(4, true)),
      body(underLocals, underBody),
      body(dotsLocals, dotsBody),
    ]),
  );
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...types, ...imports, ...funcs, ...exports, ...code]);
}

// The WebAssembly global of Node, typed here: the project's lib (ES2023, no DOM) does not declare it.
interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
};

/**
 * 4 GiB, the most a 32-bit memory addresses. The memory is shared (a search helper thread runs the same
 * kernel over it: search-helper.ts), so it can never move and V8 reserves its address space at once; but
 * V8 reserves 10 GiB of address space for every wasm memory on x64 (guard regions), shared or not, with
 * any maximum (measured on Node 20: 3 memories, 30,720 MiB of VmSize, for a maximum of 65,536 pages or
 * 22,000): a smaller maximum would save no address space and could only refuse rows. No physical page
 * is used until it is grown into.
 */
const MAX_PAGES = 65536;

export interface PopcountKernel {
  readonly memory: WasmMemory;
  scan(codes: number, n: number, query: number, dist: number, hist: number): void;
  collect(dist: number, n: number, cutoff: number, out: number, max: number): number;
  /** scan over 16-byte codes (the short codes of the pre-selection). */
  scanShort(codes: number, n: number, query: number, dist: number, hist: number): void;
  /** scan over the 64-byte codes of the n row numbers (u32) at `rows`: dist[i] is row rows[i]'s. */
  gather(codes: number, n: number, query: number, dist: number, hist: number, rows: number): void;
  /** The rows of 16-byte codes within `cutoff` of the query, at most max of them, into out (u32): their count. */
  under(codes: number, n: number, query: number, cutoff: number, out: number, max: number): number;
  /** The exact int8 . int16 dot products of n 512-byte rows at `rows` with the query at `query`, into out (i32). */
  dots(rows: number, n: number, query: number, out: number): void;
}

let compiled: object | undefined;

/** The compiled kernel (a search helper thread instantiates it over the same memory). */
export function kernelModule(): object {
  return (compiled ??= new WebAssembly.Module(moduleBytes()));
}

/**
 * A kernel instance over a shared memory of its own (64 KiB pages, grown by the caller). A grow of a
 * shared memory is in place, but `memory.buffer` is then a new buffer: views are taken again after it.
 */
export function popcountKernel(initialPages = 1): PopcountKernel {
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
  const inst = new WebAssembly.Instance(kernelModule(), { env: { mem: memory } });
  const e = inst.exports as unknown as Omit<PopcountKernel, 'memory'>;
  return {
    memory,
    scan: e.scan,
    collect: e.collect,
    scanShort: e.scanShort,
    gather: e.gather,
    under: e.under,
    dots: e.dots,
  };
}
