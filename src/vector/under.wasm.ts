import {
  add,
  anyTrue,
  c32,
  extaddI16U,
  extaddI8U,
  get,
  I32,
  i32x4Extract,
  i32x4LeU,
  i32x4Splat,
  loopBelow,
} from './wasm-encode.js';
import { narrowI16U, op, popcnt, set, V128, v128Load, v128Xor } from './wasm-encode.js';

/**
 * under(codes=0, n=1, query=2, cutoff=3, out=4, max=5) -> count, over 16-byte codes: writes the row
 * numbers i < n with popcount(codes[i] ^ query) <= cutoff into out (u32) and returns how many; stops
 * once fewer than 4 slots of max are left. Four rows per step, their distances summed in one vector
 * (narrowing pairs of rows' partial sums), compared with the cutoff at once; the rows past n in the
 * last step are read (the codes region is zeroed past the rows) and never listed.
 * locals: end=6, ptr=7, i=8, found=9 (i32), q=10, cut=11, a=12, b=13, c=14, d=15 (v128)
 */
export const underLocals = [
  [4, I32],
  [6, V128],
];

const [END, PTR, I, FOUND, Q, CUT] = [6, 7, 8, 9, 10, 11];
const row = (w: number) => [...get(PTR), ...v128Load(16 * w), ...get(Q), ...v128Xor, ...popcnt, ...extaddI8U];
// out[found] = i + lane; found += (lane under the cut) & (i + lane < n)
const hit = (lane: number) => [
  ...get(4),
  ...get(FOUND),
  ...c32(2),
  op.i32Shl,
  op.i32Add,
  ...get(I),
  ...c32(lane),
  op.i32Add,
  op.i32Store,
  2,
  0,
  ...get(12),
  ...i32x4Extract(lane),
  ...c32(1),
  op.i32And,
  ...get(I),
  ...c32(lane),
  op.i32Add,
  ...get(1),
  op.i32LtU,
  op.i32And,
  ...get(FOUND),
  op.i32Add,
  ...set(FOUND),
];

export const underBody = [
  ...get(2),
  ...v128Load(0),
  ...set(Q),
  ...get(3),
  ...i32x4Splat,
  ...set(CUT),
  // end = codes + ceil(n / 4) * 64
  ...get(0),
  op.localTee,
  PTR,
  ...get(1),
  ...c32(3),
  op.i32Add,
  ...c32(2),
  op.i32ShrU,
  ...c32(6),
  op.i32Shl,
  op.i32Add,
  ...set(END),
  ...loopBelow(PTR, END),
  ...get(FOUND),
  ...c32(4),
  op.i32Add,
  ...get(5),
  op.i32GtU,
  op.brIf,
  1,
  // a, b, c, d: per-row u16 partial sums; pairs narrowed to bytes and summed until one i32 lane a row
  ...row(0),
  ...row(1),
  ...narrowI16U,
  ...extaddI8U,
  ...set(13),
  ...row(2),
  ...row(3),
  ...narrowI16U,
  ...extaddI8U,
  ...set(14),
  ...get(13),
  ...get(14),
  ...narrowI16U,
  ...extaddI8U,
  ...extaddI16U,
  ...get(CUT),
  ...i32x4LeU,
  op.localTee,
  12,
  ...anyTrue,
  op.if,
  0x40,
  ...hit(0),
  ...hit(1),
  ...hit(2),
  ...hit(3),
  op.end,
  ...add(PTR, 64),
  ...add(I, 4),
  op.br,
  0,
  op.end,
  op.end,
  ...get(FOUND),
  op.end,
];
