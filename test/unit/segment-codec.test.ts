import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { decodeSegment, encodeSegment } from '../../src/vector/segment-codec.js';
import { pseudoUnit as unit } from '../../support/unit-vectors.js';

test('rows exported into a segment, encoded, decoded and loaded (across chunk boundaries) are the rows held, and search the same', () => {
  const a = QuantizedIndex.centredOn(Array.from({ length: 64 }, (_, i) => unit(i)));
  const ids = Array.from({ length: 20_000 }, (_, i) => `tpl_${String(i).padStart(16, '0')}`);
  ids.forEach((id, i) => a.add(id, unit(i)));
  // Two segments, the second loaded at a row that is not a chunk start (16,384 rows a chunk).
  const parts = [ids.slice(0, 5_000), ids.slice(5_000)];
  const b = new QuantizedIndex(a.centre(), 4);
  for (const [k, part] of parts.entries()) {
    const rows = a.exportRows(part);
    const bytes = encodeSegment({
      id: `seg_${k}`,
      model: 'm',
      purposeId: 'pur_x',
      centre: a.centre(),
      templateIds: part,
      subjectIds: part.map((t) => `sub_${t.slice(4)}`),
      ...rows,
    });
    const s = decodeSegment(Buffer.from(bytes));
    assert.deepEqual(
      s.subjectIds.slice(0, 2),
      part.slice(0, 2).map((t) => `sub_${t.slice(4)}`),
    );
    assert.deepEqual(s.templateIds, part);
    b.loadRows(s.templateIds, s.codes, s.rows, s.scales);
  }
  assert.deepEqual(b.ids(), ids);
  const want = a.exportRows(ids);
  const got = b.exportRows(ids);
  assert.ok(Buffer.from(got.codes).equals(Buffer.from(want.codes)));
  assert.ok(Buffer.from(got.rows.buffer).equals(Buffer.from(want.rows.buffer)));
  assert.deepEqual(got.scales, want.scales);
  for (const q of [unit(3), unit(17_001), unit(99_999)]) assert.deepEqual(b.search(q, 5), a.search(q, 5));
  assert.throws(() => b.loadRows([ids[0]!], want.codes, want.rows, want.scales), /already held/);
});

test('a segment of another length than its header says is refused', () => {
  const bytes = encodeSegment({
    id: 'seg_1',
    model: 'm',
    purposeId: 'p',
    centre: new Float32Array(512),
    templateIds: ['t1'],
    subjectIds: ['s1'],
    codes: new Uint8Array(64),
    rows: new Int8Array(512),
    scales: new Float32Array(1),
  });
  assert.equal(decodeSegment(bytes).templateIds[0], 't1');
  assert.throws(() => decodeSegment(bytes.subarray(0, bytes.length - 1)), /malformed/);
});
