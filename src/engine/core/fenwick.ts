/** A Fenwick (binary indexed) tree of counts over positions 0..n-1: point add and prefix sum in O(log n). */
/** The tree of a zero-capacity Fenwick, shared: nothing is ever added to it. */
const EMPTY_TREE = new Int32Array(1);

export class Fenwick {
  private tree: Int32Array;

  constructor(capacity = 16) {
    this.tree = capacity === 0 ? EMPTY_TREE : new Int32Array(capacity + 1);
  }

  get capacity(): number {
    return this.tree.length - 1;
  }

  /** Grows to hold `capacity` positions, keeping the counts (given again as flags by the caller). */
  reset(capacity: number): void {
    this.tree = new Int32Array(capacity + 1);
  }

  add(position: number, delta: number): void {
    const tree = this.tree;
    for (let i = position + 1; i < tree.length; i += i & -i) tree[i]! += delta;
  }

  /** Sum over positions [0, end). */
  prefix(end: number): number {
    let total = 0;
    const tree = this.tree;
    for (let i = end; i > 0; i -= i & -i) total += tree[i]!;
    return total;
  }
}
