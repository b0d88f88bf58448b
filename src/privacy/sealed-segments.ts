import { createCipheriv, randomBytes } from 'node:crypto';
import { open as openFile } from 'node:fs/promises';
import { VeilError } from '../errors.js';
import { open } from './keys.js';

/**
 * A large file sealed as it is written (an access export streamed entry by entry): the plaintext
 * cut into segments, each sealed with AES-256-GCM under the same key with an AAD naming its position
 * and whether it is the last, so a reader releases only authenticated bytes, and reordered, dropped or
 * truncated segments fail. Layout: `VEILSEG1`, then per segment a 4-byte big-endian length and the
 * sealed segment (nonce, ciphertext, tag as `seal()` makes them).
 */
export const SEGMENTED_MAGIC = Buffer.from('VEILSEG1', 'ascii');
const SEGMENT = 1 << 20;
const NONCE = 12;
const TAG = 16;

const segmentAad = (aad: string, index: number, last: boolean) => `${aad}:seg:${index}:${last ? 'last' : 'more'}`;

export function isSegmented(bytes: Uint8Array): boolean {
  return bytes.length >= SEGMENTED_MAGIC.length && SEGMENTED_MAGIC.equals(bytes.subarray(0, SEGMENTED_MAGIC.length));
}

/** Seals what is pushed, a segment at a time, handing the pieces of each sealed segment to `out` (which writes them). */
export class SegmentSealer {
  private pending: Buffer[] = [];
  private size = 0;
  private index = 0;
  private ended = false;

  constructor(
    private readonly key: Buffer,
    private readonly aad: string,
    private readonly out: (pieces: Buffer[]) => void,
    private readonly segment = SEGMENT,
  ) {
    out([SEGMENTED_MAGIC]);
  }

  push(chunk: Uint8Array): void {
    if (this.ended) throw new VeilError('INVALID_STATE', 'The sealed file is already ended.');
    this.pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.size += chunk.byteLength;
    while (this.size >= this.segment) this.emit(false);
  }

  /** Seals what is left as the last segment (possibly empty). */
  end(): void {
    if (this.ended) return;
    this.emit(true);
    this.ended = true;
  }

  /**
   * Seals the next segment straight from the pieces pushed (no copy into one buffer): the same bytes
   * `seal()` makes (nonce, ciphertext, tag), written piece by piece as the cipher produces them.
   */
  private emit(last: boolean): void {
    const take = last ? this.size : this.segment;
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(Buffer.from(segmentAad(this.aad, this.index++, last), 'utf8'));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(NONCE + take + TAG);
    const pieces = [len, nonce];
    let left = take;
    let used = 0;
    while (left > 0) {
      const head = this.pending[used]!;
      const part = head.length <= left ? head : head.subarray(0, left);
      if (part === head) used++;
      else this.pending[used] = head.subarray(left);
      left -= part.length;
      pieces.push(c.update(part));
    }
    this.pending = this.pending.slice(used);
    c.final();
    pieces.push(c.getAuthTag());
    this.size -= take;
    this.out(pieces);
  }
}

/** The whole file sealed at once in the segmented layout (key rotation re-seals an export this way). */
export function sealSegmented(key: Buffer, plain: Uint8Array, aad: string): Buffer {
  const parts: Buffer[] = [];
  const s = new SegmentSealer(key, aad, (p) => parts.push(...p));
  s.push(plain);
  s.end();
  return Buffer.concat(parts);
}

/** Each segment's plaintext, authenticated, in order; a missing last segment is an error. */
export function* openSegments(key: Buffer, bytes: Uint8Array, aad: string): Generator<Buffer> {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isSegmented(b)) throw broken();
  let at = SEGMENTED_MAGIC.length;
  for (let i = 0; ; i++) {
    if (at + 4 > b.length) throw broken();
    const len = b.readUInt32BE(at);
    const end = at + 4 + len;
    if (end > b.length) throw broken();
    yield open(key, b.subarray(at + 4, end), segmentAad(aad, i, end === b.length));
    if (end === b.length) return;
    at = end;
  }
}

/** A sealed file in either layout (one `seal()` or segments), opened whole. */
export function openSealedFile(key: Buffer, bytes: Uint8Array, aad: string): Buffer {
  return isSegmented(bytes) ? Buffer.concat([...openSegments(key, bytes, aad)]) : open(key, bytes, aad);
}

/** The same, read from disk and released a segment at a time (a download never holds the whole file). */
export async function* readSealedFile(key: Buffer, path: string, aad: string): AsyncGenerator<Buffer> {
  const fh = await openFile(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(size, SEGMENTED_MAGIC.length));
    await fh.read(head, 0, head.length, 0);
    if (!isSegmented(head)) {
      const whole = Buffer.alloc(size);
      await fh.read(whole, 0, size, 0);
      yield open(key, whole, aad);
      return;
    }
    let at = SEGMENTED_MAGIC.length;
    for (let i = 0; ; i++) {
      const len = Buffer.alloc(4);
      if (at + 4 > size || (await fh.read(len, 0, 4, at)).bytesRead !== 4) throw broken();
      const end = at + 4 + len.readUInt32BE(0);
      if (end > size) throw broken();
      const piece = Buffer.alloc(end - at - 4);
      await fh.read(piece, 0, piece.length, at + 4);
      yield open(key, piece, segmentAad(aad, i, end === size));
      if (end === size) return;
      at = end;
    }
  } finally {
    await fh.close();
  }
}

const broken = () => new VeilError('KEY_DESTROYED', 'Sealed data is truncated or damaged.');
