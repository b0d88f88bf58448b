import { foldRange, nodeHash, perfectSubtrees, type NodeId, type NodeReader } from './merkle.js';
import { VeilError } from '../errors.js';

/**
 * Tree state kept in memory: a whole small tree (the standalone verifier, tests), or just the right
 * edge of a large one (the audit log appends from it without reading the whole tree).
 */
/** An in-memory tree (for the standalone verifier and tests): level 0 holds the leaf hashes. */
export class MemoryTree {
  private readonly levels: Buffer[][] = [[]];

  get size(): number {
    return this.levels[0]!.length;
  }

  append(leaf: Buffer): void {
    let level = 0;
    let h = leaf;
    this.levels[0]!.push(h);
    // Completing a right child completes its parent: store every perfect subtree once.
    while (this.levels[level]!.length % 2 === 0) {
      const row = this.levels[level]!;
      h = nodeHash(row[row.length - 2]!, row[row.length - 1]!);
      level++;
      (this.levels[level] ??= []).push(h);
    }
  }

  readonly read: NodeReader = (ids) =>
    ids.map(({ level, index }) => {
      const h = this.levels[level]?.[index];
      if (!h) throw new Error(`node ${level}/${index} not in tree`);
      return h;
    });

  /** Hashes of the perfect subtrees covering [0, size): what a verifier needs to continue a tree. */
  frontier(size = this.size): Buffer[] {
    return this.read(perfectSubtrees(0, size)) as Buffer[];
  }
}

export interface NodeRecord extends NodeId {
  readonly hash: Buffer;
}

/**
 * The right edge of a tree: the perfect subtrees covering [0, size). Enough to append leaves,
 * compute the new root, and learn which new perfect subtrees each append completes.
 */
export class CompactRange {
  private readonly stack: NodeRecord[];
  private n: number;

  constructor(size = 0, frontier: readonly Buffer[] = []) {
    const ids = perfectSubtrees(0, size);
    if (ids.length !== frontier.length)
      throw new VeilError(
        'AUDIT_INVALID_PROOF',
        `A tree of size ${size} has ${ids.length} frontier hashes, not ${frontier.length}.`,
      );
    this.stack = ids.map((id, i) => ({ ...id, hash: frontier[i]! }));
    this.n = size;
  }

  get size(): number {
    return this.n;
  }

  /** Appends a leaf hash; returns every perfect subtree it completes, the leaf itself first. */
  append(leaf: Buffer): NodeRecord[] {
    const made: NodeRecord[] = [{ level: 0, index: this.n, hash: leaf }];
    this.stack.push(made[0]!);
    this.n++;
    while (
      this.stack.length >= 2 &&
      this.stack[this.stack.length - 1]!.level === this.stack[this.stack.length - 2]!.level
    ) {
      const right = this.stack.pop()!;
      const left = this.stack.pop()!;
      const parent = { level: left.level + 1, index: left.index / 2, hash: nodeHash(left.hash, right.hash) };
      this.stack.push(parent);
      made.push(parent);
    }
    return made;
  }

  root(): Buffer {
    return foldRange(this.stack.map((s) => s.hash));
  }

  frontier(): Buffer[] {
    return this.stack.map((s) => s.hash);
  }
}
