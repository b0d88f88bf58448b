// A one-node ONNX graph, Y = A x B (MatMul; A is [n, d] with n free, B is [d, p]), encoded by hand
// (protobuf wire format, no ONNX tooling), run by onnxruntime's CPU kernels (MLAS SIMD GEMM): the
// scale bench's exact reference scores every row against every probe at GEMM speed with it.
import * as ort from 'onnxruntime-node';

const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const field = (no: number, bytes: number[]): number[] => [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
const num = (no: number, n: number): number[] => [...varint(no << 3), ...varint(n)];
const str = (no: number, s: string): number[] => field(no, [...Buffer.from(s)]);

/** ValueInfoProto of a float tensor; a dimension is a size or a symbolic name. */
function tensor(name: string, dims: (number | string)[]): number[] {
  const shape = dims.flatMap((d) => field(1, typeof d === 'number' ? num(1, d) : str(2, d)));
  const tensorType = [...num(1, 1), ...field(2, shape)];
  return [...str(1, name), ...field(2, field(1, tensorType))];
}

/** The model bytes of Y = A x B for A [n, d], B [d, p]. */
export function matmulModel(d: number, p: number): Uint8Array {
  const node = [...str(1, 'A'), ...str(1, 'B'), ...str(2, 'Y'), ...str(4, 'MatMul')];
  const graph = [
    ...field(1, node),
    ...str(2, 'matmul'),
    ...field(11, tensor('A', ['n', d])),
    ...field(11, tensor('B', [d, p])),
    ...field(12, tensor('Y', ['n', p])),
  ];
  const model = [...num(1, 7), ...field(7, graph), ...field(8, [...str(1, ''), ...num(2, 13)])];
  return Uint8Array.from(model);
}

/** A x B on one intra-op thread (the bench shares 2 cores). */
export class MatMul {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly b: ort.Tensor,
    readonly d: number,
    readonly p: number,
  ) {}

  static async create(b: Float32Array, d: number, p: number): Promise<MatMul> {
    const session = await ort.InferenceSession.create(matmulModel(d, p), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    return new MatMul(session, new ort.Tensor('float32', b, [d, p]), d, p);
  }

  /** A [n, d] x B: [n, p], row-major. */
  async run(a: Float32Array, n: number): Promise<Float32Array> {
    const out = await this.session.run({
      A: new ort.Tensor('float32', a.subarray(0, n * this.d), [n, this.d]),
      B: this.b,
    });
    return out['Y']!.data as Float32Array;
  }
}
