import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { kernelModule } from './popcount.wasm.js';
import { gatherReadAhead, underReadAhead } from './read-ahead.js';

/**
 * The search helper: one worker thread that runs half of a quantised search's memory-bound Hamming
 * stages (shared-scan.ts) over the same shared kernel memory as the thread that searches. Started the
 * first time a large enough index searches, `unref`ed, closed when the last index using it closes.
 *
 * Signalling goes through a small control block of shared Int32 words (Atomics.wait / notify: no
 * message per search). An index's memory is posted to it once, on a port it drains synchronously
 * (receiveMessageOnPort) when woken. States of word 0:
 *   IDLE -> POSTED (the searching thread wrote a job) -> RUNNING (the helper took it) -> DONE -> IDLE;
 *   POSTED -> IDLE when the searching thread takes the job back (the helper has not started it);
 *   RUNNING -> ABANDONED when the searching thread stops waiting: the helper scrubs its scratch, then IDLE;
 *   MAIL (a memory posted or released) and STOP.
 *
 * Job words (addresses in the kernel memory): 1 index, 2 short codes, 3 codes, 4 rows, 5 cut, 6 picks,
 * 7 picks at most, 8 distances, 9 histogram, 10 query code, 11 query short code; 12 the answer.
 */
export const [IDLE, POSTED, RUNNING, DONE, ABANDONED, MAIL, STOP] = [0, 1, 2, 3, 4, 5, 6];
const STATE = 0;
const COUNT = 12;

/** The kernel exports a half needs. */
export interface HalfKernel {
  under(codes: number, n: number, query: number, cutoff: number, out: number, max: number): number;
  gather(codes: number, n: number, query: number, dist: number, hist: number, rows: number): void;
}

/**
 * One half of the two stages, as the job words say: the rows under the cut listed, then their 512-bit
 * distances and histogram; -1 when the list is full. Runs on either thread: its source is also the
 * helper's (hence plain word numbers and no inner function, so that it stands alone as text, with
 * read-ahead.ts's two functions beside it).
 */
export function runHalf(e: HalfKernel, buf: SharedArrayBuffer, c: Int32Array): number {
  new Uint32Array(buf, c[9]!, 513).fill(0);
  const m = underReadAhead(e, buf, c[2]!, c[4]!, c[11]!, c[5]!, c[6]!, c[7]!);
  if (m + 4 > c[7]!) return -1;
  gatherReadAhead(e, buf, c[3]!, m, c[10]!, c[8]!, c[9]!, c[6]!);
  return m;
}

/**
 * Zeroes what a half wrote (m: its answer; negative: all of its picks and distances): row numbers and
 * distances to the probe, not templates, but scratch of a search keeps nothing once it is over.
 */
export function scrubHalf(buf: SharedArrayBuffer, c: Int32Array, m: number): void {
  const max = c[7]!;
  new Uint32Array(buf, c[6]!, max).fill(0, 0, m < 0 ? max : Math.min(max, m + 4));
  new Uint16Array(buf, c[8]!, max).fill(0, 0, m < 0 ? max : m);
  new Uint32Array(buf, c[9]!, 513).fill(0);
}

// The helper thread: CommonJS, no TypeScript loader needed. It blocks in Atomics.wait between jobs.
const source = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { module, control, port } = workerData;
const c = new Int32Array(control);
const [IDLE, POSTED, RUNNING, DONE, ABANDONED, MAIL, STOP] = [${[IDLE, POSTED, RUNNING, DONE, ABANDONED, MAIL, STOP].join(', ')}];
const underReadAhead = ${underReadAhead.toString()};
const gatherReadAhead = ${gatherReadAhead.toString()};
const runHalf = ${runHalf.toString()};
const scrubHalf = ${scrubHalf.toString()};
const kernels = new Map();
const mail = () => {
  for (let m; (m = receiveMessageOnPort(port)); ) {
    const { id, memory } = m.message;
    if (memory) kernels.set(id, { memory, e: new WebAssembly.Instance(module, { env: { mem: memory } }).exports });
    else kernels.delete(id);
  }
};
for (;;) {
  const s = Atomics.load(c, 0);
  if (s === STOP) break;
  if (s === MAIL) {
    mail();
    Atomics.compareExchange(c, 0, MAIL, IDLE);
    continue;
  }
  if (s !== POSTED || Atomics.compareExchange(c, 0, POSTED, RUNNING) !== POSTED) {
    Atomics.wait(c, 0, s);
    continue;
  }
  let m = -2;
  let k;
  try {
    mail();
    k = kernels.get(c[1]);
    if (k) m = runHalf(k.e, k.memory.buffer, c);
  } catch {
    m = -2;
  }
  c[${COUNT}] = m;
  if (Atomics.compareExchange(c, 0, RUNNING, DONE) !== RUNNING) {
    if (k) scrubHalf(k.memory.buffer, c, m);
    Atomics.store(c, 0, IDLE);
  }
  Atomics.notify(c, 0);
}
`;

/**
 * Searches the helper answered, the searching thread took back, abandoned, ran alone (the helper busy),
 * or ran alone because the helper had been getting no core (`post`).
 */
export const helperStats = { helped: 0, taken: 0, abandoned: 0, busy: 0, resting: 0 };

// When the machine's other core is taken, the helper competes with the searching thread for one core:
// a search then costs more than on one thread. After MISSES of the last 16 searches waited for a helper
// that ran behind (its half finished a whole own half's time or more after the own half, or abandoned),
// REST searches run alone, then the helper is tried again. A half taken back costs about nothing: no miss.
const MISSES = 4;
const REST = 256;

/**
 * takeBack 'auto': the searching thread takes a job back when the helper has not started it by the time
 * its own half is done; tests: 'never' (wait for the helper), 'always' (the helper is not woken: every
 * job taken back). waitMs: how long to wait for a started half (unset: a few times the own half). rest:
 * whether a helper that does not run alongside is rested (tests that count who answered turn it off).
 */
export const helperMode: { takeBack: 'auto' | 'never' | 'always'; waitMs?: number; rest: boolean } = {
  takeBack: 'auto',
  rest: true,
};

export class SearchHelper {
  readonly control = new Int32Array(new SharedArrayBuffer(64));
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly attached = new Set<number>();
  dead = false;
  static failed = false;
  /** The last 16 searches, a bit each: 1 when the helper did not run alongside. */
  private recent = 0;
  private rest = 0;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(source, {
      eval: true,
      workerData: { module: kernelModule(), control: this.control.buffer, port: port2 },
      transferList: [port2],
      // Plain JavaScript: none of the process's loaders (tsx) is needed to start it.
      execArgv: [],
    });
    this.worker.unref();
    this.port.unref();
    // A helper that fails leaves every search to the searching thread alone.
    this.worker.on('error', () => (this.dead = SearchHelper.failed = true));
    this.worker.on('exit', () => (this.dead = true));
  }

  has(id: number): boolean {
    return this.attached.has(id);
  }

  attach(id: number, memory: object): void {
    this.attached.add(id);
    this.port.postMessage({ id, memory });
    this.mail();
  }

  /**
   * Drops an index's memory by closing the thread: an idle helper seldom collects garbage, so a memory
   * it merely forgot stayed resident with every code of the index (and of people a rebuild left out).
   * The indexes still open attach again to the next helper on their next split search.
   */
  detach(id: number): void {
    if (!this.attached.delete(id)) return;
    this.settle(); // an abandoned half of another index is scrubbed before the thread stops
    this.close();
  }

  private mail(): void {
    if (Atomics.compareExchange(this.control, STATE, IDLE, MAIL) === IDLE) Atomics.notify(this.control, STATE);
  }

  /** Writes a job (words 1-11) and wakes the helper: false when it is busy or gone. */
  post(words: readonly number[]): boolean {
    if (this.dead) return false;
    if (this.rest > 0) {
      this.rest--;
      helperStats.resting++;
      return false;
    }
    if (Atomics.load(this.control, STATE) !== IDLE) {
      helperStats.busy++;
      return false;
    }
    this.control.set(words, 1);
    Atomics.store(this.control, STATE, POSTED);
    if (helperMode.takeBack !== 'always') Atomics.notify(this.control, STATE);
    return true;
  }

  /**
   * The posted half's answer: the helper's, or (not started by the helper) the searching thread's own
   * run of it; undefined when the helper started it but did not finish within `waitMs` (abandoned).
   * Then `release` after reading the answer's regions.
   */
  answer(e: HalfKernel, buf: SharedArrayBuffer, ownMs: number, waitMs: number): number | undefined {
    const c = this.control;
    const takeBack = () => Atomics.compareExchange(c, STATE, POSTED, IDLE) === POSTED;
    if (helperMode.takeBack !== 'never' && takeBack()) {
      helperStats.taken++;
      return runHalf(e, buf, c);
    }
    const start = performance.now();
    const deadline = start + waitMs;
    for (let s = Atomics.load(c, STATE); s === POSTED || s === RUNNING; s = Atomics.load(c, STATE)) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(c, STATE, s, left);
    }
    const late = performance.now() - start > Math.max(0.2, ownMs);
    if (takeBack()) {
      helperStats.taken++;
      return runHalf(e, buf, c);
    }
    if (Atomics.compareExchange(c, STATE, RUNNING, ABANDONED) === RUNNING) {
      helperStats.abandoned++;
      this.note(true);
      return undefined;
    }
    helperStats.helped++;
    this.note(late);
    return c[COUNT]!;
  }

  private note(miss: boolean): void {
    this.recent = ((this.recent << 1) | (miss ? 1 : 0)) & 0xffff;
    let misses = 0;
    for (let r = this.recent; r; r &= r - 1) misses++;
    if (misses < MISSES || !helperMode.rest) return;
    this.rest = REST;
    this.recent = 0;
  }

  /** Scrubs the half's regions and frees the helper for the next job. */
  release(buf: SharedArrayBuffer, m: number): void {
    scrubHalf(buf, this.control, m);
    Atomics.store(this.control, STATE, IDLE);
  }

  /**
   * Waits for a half the searching thread abandoned: the helper may still read rows and write its
   * scratch, so no row may change and no memory grow until it is done.
   */
  settle(): void {
    const c = this.control;
    const until = performance.now() + 60_000;
    for (let s = Atomics.load(c, STATE); s === RUNNING || s === ABANDONED; s = Atomics.load(c, STATE)) {
      if (this.dead) return;
      if (performance.now() > until) throw new Error('the search helper thread did not finish an abandoned half');
      Atomics.wait(c, STATE, s, 100);
    }
  }

  close(): void {
    this.dead = true;
    Atomics.store(this.control, STATE, STOP);
    Atomics.notify(this.control, STATE);
    if (helper === this) helper = undefined;
    void this.worker.terminate();
  }
}

let helper: SearchHelper | undefined;

/** This thread's helper, started on first use; undefined when it cannot run. */
export function searchHelper(): SearchHelper | undefined {
  if (helper?.dead) helper = undefined;
  if (helper || SearchHelper.failed) return helper;
  try {
    return (helper = new SearchHelper());
  } catch {
    return undefined;
  }
}

/** This thread's helper if one runs (none is started). */
export function currentHelper(): SearchHelper | undefined {
  return helper;
}
