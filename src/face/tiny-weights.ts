/**
 * Weights too small to change a face model's output, set to zero in a copy of the model's bytes.
 *
 * Why: the shipped embedder carries 190,805 float weights below 1e-15 in magnitude (8,938 of them
 * subnormal, below 2^-126), decayed channels of its training; the landmark model 26,567 subnormal
 * ones. On Intel CPUs every multiply that reads or yields a subnormal takes a microcode assist, and
 * ONNX Runtime sets flush-to-zero only once per process (the first session's option) and on its own
 * pool threads, not on the worker threads that run Veil's sessions: on this project's machine the
 * embedder took 56 ms of CPU per face, 7.5 ms with these weights zeroed. The threshold is checked,
 * not argued: bit-identical embeddings, boxes and landmarks on every shared photo and on 1,000
 * lfw-dev photos (bench/engine-same.ts; docs/benchmarks.md, "Identify, CPU per photo"). Zeroing
 * only the subnormal weights left products of tiny ones going subnormal (15 ms per face).
 *
 * Only float tensors stored as graph initializers are touched (ModelProto.graph = 7,
 * GraphProto.initializer = 5, TensorProto.data_type = 2 with FLOAT = 1, float_data = 4, raw_data = 9);
 * no byte length changes, so the protobuf stays valid without re-encoding.
 */
export const TINY_WEIGHT = 1e-15;

export function flushTinyWeights(model: Uint8Array, below = TINY_WEIGHT): { bytes: Uint8Array; flushed: number } {
  const bytes = Uint8Array.from(model);
  let flushed = 0;
  for (const graph of fields(bytes, 0, bytes.length)) {
    if (graph.field !== 7 || graph.wire !== 2) continue;
    for (const init of fields(bytes, graph.start, graph.end)) {
      if (init.field !== 5 || init.wire !== 2) continue;
      const parts = [...fields(bytes, init.start, init.end)];
      if (parts.find((p) => p.field === 2 && p.wire === 0)?.value !== 1) continue;
      for (const p of parts) {
        // float_data comes packed (wire 2) or, rarely, one fixed32 (wire 5) per value.
        if ((p.field === 9 && p.wire === 2) || (p.field === 4 && (p.wire === 2 || p.wire === 5)))
          flushed += flushRange(bytes, p.start, p.end, below);
      }
    }
  }
  return { bytes, flushed };
}

/** Zeroes every little-endian float32 in [start, end) whose magnitude is below `below`; returns how many. */
function flushRange(b: Uint8Array, start: number, end: number, below: number): number {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let n = 0;
  for (let i = start; i + 4 <= end; i += 4) {
    const v = view.getFloat32(i, true);
    if (v !== 0 && Math.abs(v) < below) {
      view.setFloat32(i, 0, true);
      n++;
    }
  }
  return n;
}

interface Field {
  readonly field: number;
  readonly wire: number;
  /** A varint field's value (wire 0). */
  readonly value: number;
  /** The payload of a length-delimited (2) or fixed-size (1, 5) field. */
  readonly start: number;
  readonly end: number;
}

/** The fields of one protobuf message in b[from, to); throws on a truncated or unknown encoding. */
function* fields(b: Uint8Array, from: number, to: number): Generator<Field> {
  let i = from;
  const varint = (): number => {
    let r = 0,
      mul = 1;
    for (;;) {
      if (i >= to) throw new Error('truncated protobuf varint');
      const x = b[i++]!;
      r += (x & 0x7f) * mul;
      if (x < 0x80) return r;
      mul *= 128;
    }
  };
  while (i < to) {
    const key = varint();
    const field = Math.floor(key / 8),
      wire = key % 8;
    let value = 0,
      start = i,
      end = i;
    if (wire === 0) {
      value = varint();
      start = end = i;
    } else if (wire === 2) {
      const len = varint();
      start = i;
      end = i + len;
    } else if (wire === 5) end = i + 4;
    else if (wire === 1) end = i + 8;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (end > to) throw new Error('truncated protobuf field');
    i = end;
    yield { field, wire, value, start, end };
  }
}
