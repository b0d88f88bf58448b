/** Encoding helpers for the hand-assembled WebAssembly kernels (popcount.wasm.ts, under.wasm.ts). */

// Opcodes (WebAssembly core + SIMD proposal, final numbering).
export const I32 = 0x7f;
export const V128 = 0x7b;
export const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Load16u: 0x2f,
  i32Store: 0x36,
  i32Store16: 0x3b,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32GtU: 0x4b,
  i32LtU: 0x49,
  i32And: 0x71,
  if: 0x04,
  i32LeU: 0x4d,
  i32Add: 0x6a,
  i32Shl: 0x74,
  i32ShrU: 0x76,
};
export const simd = (n: number) => [0xfd, ...uleb(n)];
export const v128Load = (offset: number) => [...simd(0x00), 4, ...uleb(offset)];
export const v128Xor = simd(0x51);
export const popcnt = simd(0x62);
export const extaddI8U = simd(0x7d);
export const extaddI16U = simd(0x7f);
export const i16x8Add = simd(0x8e);
export const i32x4Extract = (lane: number) => [...simd(0x1b), lane];

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
export const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const get = (i: number) => [op.localGet, i];
export const set = (i: number) => [op.localSet, i];
export const c32 = (n: number) => [op.i32Const, ...sleb(n)];
export const add = (i: number, n: number) => [...get(i), ...c32(n), op.i32Add, ...set(i)];
/** The head of a loop over [local ptr, local end): block, loop, and out of the block once ptr >= end (unsigned). */
export const loopBelow = (ptr: number, end: number) => [
  op.block,
  0x40,
  op.loop,
  0x40,
  ...get(ptr),
  ...get(end),
  op.i32GeU,
  op.brIf,
  1,
];

export const i32x4Splat = simd(0x11);
export const narrowI16U = simd(0x66);
export const i32x4LeU = simd(0x3e);
export const anyTrue = simd(0x53);
