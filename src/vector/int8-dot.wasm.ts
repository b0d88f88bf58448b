import { add, c32, get, I32, i32x4Extract, op, set, simd, V128, v128Load, loopBelow } from './wasm-encode.js';

/**
 * dots(rows=0, n=1, query=2, out=3), part of the kernel of popcount.wasm.ts: for each of n int8 rows of
 * 512 components laid out one after the other at `rows`, out[i] (i32) = sum_j row_i[j] * query[j], the
 * query being 512 int16 components at `query`. Every product and sum is an integer: the result is the
 * exact dot product (at most 512 * 128 * 32767 < 2^31 in magnitude), the one `int8DotI16` of
 * int8-stage.ts computes in JavaScript. Per 16 components: one load, sign-extended to two i16x8 halves,
 * each multiplied pairwise with the query and summed into i32 lanes (i32x4.dot_i16x8_s), on two
 * accumulators.
 * locals: end=4, ptr=5 (i32), a=6, b=7, x=8 (v128)
 */
export const dotsLocals = [
  [2, I32],
  [3, V128],
];

const extendLowS = simd(0x87);
const extendHighS = simd(0x88);
const dotI16 = simd(0xba);
const i32x4Add = simd(0xae);
const [END, PTR, A, B, X] = [4, 5, 6, 7, 8];
const WORDS = 32;

export const dotsBody = [
  // ptr = rows; end = rows + n * 512
  ...get(0),
  op.localTee,
  PTR,
  ...get(1),
  ...c32(9),
  op.i32Shl,
  op.i32Add,
  ...set(END),
  ...loopBelow(PTR, END),
  ...[...Array(WORDS).keys()].flatMap((w) => [
    ...get(PTR),
    ...v128Load(16 * w),
    op.localTee,
    X,
    ...extendLowS,
    ...get(2),
    ...v128Load(32 * w),
    ...dotI16,
    ...(w ? [...get(A), ...i32x4Add] : []),
    ...set(A),
    ...get(X),
    ...extendHighS,
    ...get(2),
    ...v128Load(32 * w + 16),
    ...dotI16,
    ...(w ? [...get(B), ...i32x4Add] : []),
    ...set(B),
  ]),
  // out[i] = the four lanes of a + b
  ...get(3),
  ...get(A),
  ...get(B),
  ...i32x4Add,
  op.localTee,
  A,
  ...i32x4Extract(0),
  ...[1, 2, 3].flatMap((lane) => [...get(A), ...i32x4Extract(lane), op.i32Add]),
  op.i32Store,
  2,
  0,
  ...add(3, 4),
  ...add(PTR, 512),
  op.br,
  0,
  op.end,
  op.end,
  op.end,
];
