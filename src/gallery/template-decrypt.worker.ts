// A start-up decryption worker (template-decrypt.ts): unwraps each subject's data key under the
// master key and opens the templates sealed under it, for a batch of rows packed in one buffer.
import { parentPort, workerData } from 'node:worker_threads';
import { MasterKey, open } from '../privacy/keys.js';
import { templateAad } from './template-vault.js';
import type { DecryptJob, DecryptReply } from './template-decrypt.js';

const given = workerData as { master: Uint8Array };
const master = MasterKey.fromBytes(Buffer.from(given.master));
given.master.fill(0);

parentPort!.on('message', (job: DecryptJob) => {
  try {
    parentPort!.postMessage(...run(job));
  } catch (e) {
    // Only the message: nothing of a template or key travels in an error.
    const reply: DecryptReply = { id: job.id, error: (e as Error).message };
    parentPort!.postMessage(reply);
  }
});

function run(job: DecryptJob): [DecryptReply, ArrayBuffer[]] {
  const n = job.ids.length;
  const vectors = new Float32Array(n * job.dims);
  const ok = new Uint8Array(n);
  const bytes = new Uint8Array(vectors.buffer);
  const sealed = new Uint8Array(job.sealed);
  const wrapped = new Uint8Array(job.wrapped);
  let owner = '';
  let key: Buffer | null = null;
  for (let i = 0; i < n; i++) {
    const subjectId = job.subjectIds[i]!;
    if (subjectId !== owner || i === 0) {
      owner = subjectId;
      const w = job.wrappedLength[i]!;
      key = w
        ? master.unwrapSlot(wrapped.subarray(i * job.wrappedBytes, i * job.wrappedBytes + w), owner, job.slots[i]!)
        : null;
    }
    if (!key) continue;
    const plain = open(
      key,
      sealed.subarray(job.sealedAt[i]!, job.sealedAt[i + 1]!),
      templateAad(job.ids[i]!, subjectId, job.purposeIds[i]!),
    );
    if (plain.length !== job.dims * 4) throw new Error(`template ${job.ids[i]} has ${plain.length / 4} dimensions`);
    bytes.set(plain, i * job.dims * 4);
    plain.fill(0);
    ok[i] = 1;
  }
  return [{ id: job.id, vectors, ok }, [vectors.buffer, ok.buffer]];
}
