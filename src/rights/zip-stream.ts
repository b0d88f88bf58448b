import { crc32, deflateRawSync } from 'node:zlib';
import { VeilError } from '../errors.js';

export interface ZipEntry {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Already compressed: stored as they are (deflating a JPEG costs time and saves nothing). */
const STORED = /\.(jpe?g|png|webp|zip)$/i;
const UTF8_NAMES = 0x0800;

/**
 * Writes a ZIP to `out` entry by entry as the entries come: only the entry being written is in
 * memory (plus 46 bytes and the name of each entry for the central directory at the end). JPEGs are
 * stored, everything else deflated; CRC-32 and deflate are Node's zlib (fflate's JavaScript CRC cost
 * about 0.8 s of CPU for 185 MB of crops, zlib's 0.06 s). Every entry is whole when it is written,
 * so its sizes and CRC go in its local header (no data descriptors). No ZIP64: more than 65,535
 * entries or 4 GiB is refused, as fflate refused it before. Entries come in batches (a few hundred
 * crops at a time: one await per batch, not per entry). Returns the entry count.
 */
export async function writeZip(
  batches: AsyncIterable<readonly ZipEntry[]>,
  out: (chunk: Uint8Array) => void,
  when = new Date(),
): Promise<number> {
  const { time, date } = dosTime(when);
  const central: Buffer[] = [];
  let offset = 0;
  let n = 0;
  const emit = (b: Uint8Array) => {
    out(b);
    offset += b.length;
  };
  for await (const batch of batches)
    for (const e of batch) {
      const name = Buffer.from(e.name, 'utf8');
      const stored = STORED.test(e.name);
      const data = stored ? e.bytes : deflateRawSync(e.bytes, { level: 6 });
      if (n === 0xffff || offset + 30 + name.length + data.length > 0xffffffff)
        throw new VeilError('PAYLOAD_TOO_LARGE', 'The export is larger than a ZIP without ZIP64 can hold.');
      const fields = {
        method: stored ? 0 : 8,
        crc: crc32(e.bytes),
        compressed: data.length,
        size: e.bytes.length,
        nameLength: name.length,
      };
      const local = Buffer.alloc(30 + name.length);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4); // version needed to extract: 2.0
      common(local, 6, fields, time, date);
      name.copy(local, 30);
      const at = offset;
      emit(local);
      emit(data);
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(20, 4); // made by: MS-DOS attributes, 2.0
      c.writeUInt16LE(20, 6);
      common(c, 8, fields, time, date);
      // comment length, disk, internal and external attributes: 0
      c.writeUInt32LE(at, 42);
      central.push(c, name);
      n++;
    }
  const start = offset;
  for (const b of central) emit(b);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(n, 8);
  end.writeUInt16LE(n, 10);
  end.writeUInt32LE(offset - start, 12);
  end.writeUInt32LE(start, 16);
  emit(end);
  return n;
}

/** The fields local and central headers share, from flags to the extra field's length. */
function common(
  b: Buffer,
  at: number,
  f: { method: number; crc: number; compressed: number; size: number; nameLength: number },
  time: number,
  date: number,
): void {
  b.writeUInt16LE(UTF8_NAMES, at);
  b.writeUInt16LE(f.method, at + 2);
  b.writeUInt16LE(time, at + 4);
  b.writeUInt16LE(date, at + 6);
  b.writeUInt32LE(f.crc, at + 8);
  b.writeUInt32LE(f.compressed, at + 12);
  b.writeUInt32LE(f.size, at + 16);
  b.writeUInt16LE(f.nameLength, at + 20);
  b.writeUInt16LE(0, at + 22);
}

/** MS-DOS time and date (UTC; 2-second resolution; 1980 at the earliest). */
function dosTime(d: Date): { time: number; date: number } {
  const y = Math.max(1980, d.getUTCFullYear());
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((y - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}
