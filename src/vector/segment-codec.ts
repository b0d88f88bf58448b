import { createDecipheriv } from 'node:crypto';
import { VeilError } from '../errors.js';

const MAGIC = Buffer.from('VIDXSEG1', 'ascii');
const DIMS = 512;
const CODE_BYTES = DIMS / 8;

/** The rows of one segment of a purpose's quantised index, as the index holds them (no float vectors). */
export interface SegmentRows {
  readonly id: string;
  readonly model: string;
  readonly purposeId: string;
  /** The centre the sign codes are taken against (the same for every segment of a purpose). */
  readonly centre: Float32Array;
  readonly templateIds: readonly string[];
  readonly subjectIds: readonly string[];
  /** n * 64 sign codes, n * 512 int8 components, n scales. */
  readonly codes: Uint8Array;
  readonly rows: Int8Array;
  readonly scales: Float32Array;
}

/** What a segment is sealed with besides its key: a file renamed or copied to another id, model or purpose fails. */
export const segmentAad = (id: string, model: string, purposeId: string) =>
  `veil.index-segment.v1:${id}:${model}:${purposeId}`;

/**
 * Plaintext layout: `VIDXSEG1`, a u32 (BE) length and that many bytes of JSON header {id, model,
 * purposeId, n, ids}, zero padding to a multiple of 4, then the centre (512 float32), the scales (n
 * float32), the codes (n * 64 bytes) and the int8 rows (n * 512 bytes). `ids` is the template and
 * subject id of each row, "tid subject" joined by newlines. Little-endian arrays (the machine's).
 */
export function encodeSegment(s: SegmentRows): Buffer {
  const { out, at } = layout(s);
  let o = at;
  for (const part of [s.centre, s.scales, s.codes, s.rows]) {
    out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), o);
    o += part.byteLength;
  }
  return out;
}

type SegmentHead = Omit<SegmentRows, 'codes' | 'rows' | 'scales'>;
type RowParts = Pick<SegmentRows, 'codes' | 'rows' | 'scales'>;

/**
 * `encodeSegment`'s bytes, the rows taken `step` at a time (`take(from, to)`: null when they can no
 * longer be, and then null), `between` awaited before each step: a segment's 38 MB are not copied in
 * one go on the event loop. `take`'s arrays are zeroed once copied.
 */
export async function encodeSegmentInSteps(
  s: SegmentHead,
  take: (from: number, to: number) => RowParts | null,
  step: number,
  between: () => Promise<void>,
): Promise<Buffer | null> {
  const n = s.templateIds.length;
  const { out, at } = layout(s);
  const bytes = (a: Uint8Array | Int8Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  out.set(bytes(s.centre), at);
  const scalesAt = at + DIMS * 4;
  const codesAt = scalesAt + n * 4;
  const rowsAt = codesAt + n * CODE_BYTES;
  for (let i = 0; i < n; i += step) {
    await between();
    const j = Math.min(n, i + step);
    const p = take(i, j);
    if (!p) {
      out.fill(0);
      return null;
    }
    out.set(bytes(p.scales), scalesAt + i * 4);
    out.set(p.codes, codesAt + i * CODE_BYTES);
    out.set(bytes(p.rows), rowsAt + i * DIMS);
    p.rows.fill(0);
  }
  return out;
}

/** The buffer for a segment of these rows, its magic and header written; `at`: where the centre goes. */
function layout(s: SegmentHead): { out: Buffer; at: number } {
  const n = s.templateIds.length;
  const ids = s.templateIds.map((t, i) => `${t} ${s.subjectIds[i]}`).join('\n');
  const header = Buffer.from(JSON.stringify({ id: s.id, model: s.model, purposeId: s.purposeId, n, ids }), 'utf8');
  const head = MAGIC.length + 4 + header.length;
  const at = head + ((4 - (head % 4)) % 4);
  const out = Buffer.alloc(at + DIMS * 4 + n * 4 + n * CODE_BYTES + n * DIMS);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(header.length, MAGIC.length);
  header.copy(out, MAGIC.length + 4);
  return { out, at };
}

export function decodeSegment(b: Buffer): SegmentRows {
  const bad = () => new VeilError('INVALID_INPUT', 'An index snapshot segment is malformed.');
  if (b.length < MAGIC.length + 4 || !MAGIC.equals(b.subarray(0, MAGIC.length))) throw bad();
  const len = b.readUInt32BE(MAGIC.length);
  const h = JSON.parse(b.subarray(MAGIC.length + 4, MAGIC.length + 4 + len).toString('utf8')) as {
    id: string;
    model: string;
    purposeId: string;
    n: number;
    ids: string;
  };
  const n = h.n;
  if (!Number.isInteger(n) || n < 0) throw bad();
  const head = MAGIC.length + 4 + len;
  let o = head + ((4 - (head % 4)) % 4);
  if (b.length !== o + DIMS * 4 + n * 4 + n * CODE_BYTES + n * DIMS) throw bad();
  // Views into `b` (the caller zeroes it once the rows are loaded); floats are copied only if `b` is not aligned.
  const take = (bytes: number) => {
    const at = b.byteOffset + o;
    o += bytes;
    return at % 4 ? { buffer: b.buffer.slice(at, at + bytes), at: 0 } : { buffer: b.buffer, at };
  };
  const c = take(DIMS * 4);
  const centre = Float32Array.from(new Float32Array(c.buffer, c.at, DIMS));
  const sc = take(n * 4);
  const scales = new Float32Array(sc.buffer, sc.at, n);
  const codes = b.subarray(o, o + n * CODE_BYTES);
  o += n * CODE_BYTES;
  const rows = new Int8Array(b.buffer, b.byteOffset + o, n * DIMS);
  const pairs = n ? h.ids.split('\n') : [];
  if (pairs.length !== n) throw bad();
  const templateIds: string[] = [];
  const subjectIds: string[] = [];
  for (const p of pairs) {
    const sp = p.indexOf(' ');
    templateIds.push(p.slice(0, sp));
    subjectIds.push(p.slice(sp + 1));
  }
  return { id: h.id, model: h.model, purposeId: h.purposeId, centre, templateIds, subjectIds, codes, rows, scales };
}

const NONCE = 12;
const TAG = 16;
const PIECE = 1 << 20;

/**
 * Opens what `seal()` made (nonce, ciphertext, tag) into `out`, a piece at a time: Node allocates a
 * fresh output buffer per call, and one the size of a segment costs several times the decryption.
 * Nothing of `out` is used unless the tag verifies (final() throws otherwise).
 */
export function openInto(key: Buffer, sealed: Buffer, aad: string, out: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  const body = sealed.subarray(NONCE, sealed.length - TAG);
  let at = 0;
  for (let o = 0; o < body.length; o += PIECE) {
    const piece = d.update(body.subarray(o, o + PIECE));
    piece.copy(out, at);
    at += piece.length;
    piece.fill(0);
  }
  d.final();
  return out.subarray(0, at);
}
