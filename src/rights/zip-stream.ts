import { crc32, deflateRawSync } from 'node:zlib';
import { VeilError } from '../errors.js';

export interface ZipEntry {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Already compressed: stored as they are (deflating a JPEG costs time and saves nothing). */
const STORED = /\.(jpe?g|png|webp|zip)$/i;
const UTF8_NAMES = 0x0800;

/** Where the 32-bit fields of a ZIP end; past them the archive is ZIP64 (tests lower them to reach that path small). */
export interface ZipLimits {
  readonly offset: number;
  readonly entries: number;
}
const ZIP32: ZipLimits = { offset: 0xffffffff, entries: 0xffff };

/**
 * Writes a ZIP to `out` entry by entry as the entries come: only the entry being written is in
 * memory (plus 46 bytes and the name of each entry for the central directory at the end). JPEGs are
 * stored, everything else deflated; CRC-32 and deflate are Node's zlib (fflate's JavaScript CRC cost
 * about 0.8 s of CPU for 185 MB of crops, zlib's 0.06 s). Every entry is whole when it is written,
 * so its sizes and CRC go in its local header (no data descriptors). An access export may pass 4 GiB
 * or 65,535 entries (10,000 full-size photos and their crops): an entry that starts past 4 GiB gets
 * its offset in a ZIP64 extra field, and the end gets a ZIP64 record when the count, the directory's
 * size or its offset need it. One entry of 4 GiB or more is refused (no photo is that large). Entries
 * come in batches (a few hundred crops at a time: one await per batch, not per entry). Returns the
 * entry count.
 */
export async function writeZip(
  batches: AsyncIterable<readonly ZipEntry[]>,
  out: (chunk: Uint8Array) => void,
  when = new Date(),
  limits: ZipLimits = ZIP32,
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
      if (Math.max(data.length, e.bytes.length) >= 0xffffffff)
        throw new VeilError('PAYLOAD_TOO_LARGE', `The export's entry ${e.name} is 4 GiB or larger.`);
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
      common(local, 6, fields, time, date, 0);
      name.copy(local, 30);
      const at = offset;
      emit(local);
      emit(data);
      const far = at >= limits.offset;
      const c = Buffer.alloc(46 + name.length + (far ? 12 : 0));
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(far ? 45 : 20, 4); // made by: MS-DOS attributes, 2.0 (4.5: ZIP64)
      c.writeUInt16LE(far ? 45 : 20, 6);
      common(c, 8, fields, time, date, far ? 12 : 0);
      // comment length, disk, internal and external attributes: 0
      c.writeUInt32LE(far ? 0xffffffff : at, 42);
      name.copy(c, 46);
      if (far) {
        // The ZIP64 extended information: only the field that overflowed, the local header's offset.
        c.writeUInt16LE(0x0001, 46 + name.length);
        c.writeUInt16LE(8, 48 + name.length);
        c.writeBigUInt64LE(BigInt(at), 50 + name.length);
      }
      central.push(c);
      n++;
    }
  const start = offset;
  for (const b of central) emit(b);
  const size = offset - start;
  const zip64 = n >= limits.entries || start >= limits.offset || size >= limits.offset;
  if (zip64) emit(zip64End(n, size, start, offset));
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : n, 8);
  end.writeUInt16LE(zip64 ? 0xffff : n, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : size, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : start, 16);
  emit(end);
  return n;
}

/** The ZIP64 end of central directory record, then its locator (which says where the record is). */
function zip64End(n: number, size: number, start: number, at: number): Buffer {
  const b = Buffer.alloc(56 + 20);
  b.writeUInt32LE(0x06064b50, 0);
  b.writeBigUInt64LE(44n, 4); // the record's size after this field
  b.writeUInt16LE(45, 12);
  b.writeUInt16LE(45, 14);
  // this disk and the directory's disk: 0
  b.writeBigUInt64LE(BigInt(n), 24);
  b.writeBigUInt64LE(BigInt(n), 32);
  b.writeBigUInt64LE(BigInt(size), 40);
  b.writeBigUInt64LE(BigInt(start), 48);
  b.writeUInt32LE(0x07064b50, 56);
  // the record's disk: 0
  b.writeBigUInt64LE(BigInt(at), 64);
  b.writeUInt32LE(1, 72); // disks in all
  return b;
}

/** The fields local and central headers share, from flags to the extra field's length. */
function common(
  b: Buffer,
  at: number,
  f: { method: number; crc: number; compressed: number; size: number; nameLength: number },
  time: number,
  date: number,
  extra: number,
): void {
  b.writeUInt16LE(UTF8_NAMES, at);
  b.writeUInt16LE(f.method, at + 2);
  b.writeUInt16LE(time, at + 4);
  b.writeUInt16LE(date, at + 6);
  b.writeUInt32LE(f.crc, at + 8);
  b.writeUInt32LE(f.compressed, at + 12);
  b.writeUInt32LE(f.size, at + 16);
  b.writeUInt16LE(f.nameLength, at + 20);
  b.writeUInt16LE(extra, at + 22);
}

/** MS-DOS time and date (UTC; 2-second resolution; 1980 at the earliest). */
function dosTime(d: Date): { time: number; date: number } {
  const y = Math.max(1980, d.getUTCFullYear());
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((y - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}
