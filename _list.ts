// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: the one intrusive doubly linked list of the library, under every
 * waiter queue (sync primitives, channels, the pool's backpressure).
 *
 * A node is the waiting object itself (it extends {@linkcode ListNode}), so
 * joining a list, leaving it at the front and leaving it from the middle (an
 * abort, or a `select` whose other case won) are all O(1) and allocate
 * nothing beyond the node.
 *
 * Invariants: a node is in at most one list at a time, and `node.list` names
 * it (`undefined` when in none); `prev`/`next` are `undefined` outside a list.
 *
 * @module
 */

/** A node of a {@linkcode List}; waiting objects extend it. */
export class ListNode {
  /** The previous node, towards the front. */
  prev: ListNode | undefined = undefined;
  /** The next node, towards the back. */
  next: ListNode | undefined = undefined;
  /** The list this node is in, or `undefined` when it is in none. */
  list: List<ListNode> | undefined = undefined;

  /** Whether the node is in a list. */
  get linked(): boolean {
    return this.list !== undefined;
  }

  /**
   * Leaves the list this node is in.
   *
   * @returns `false` if it was in none.
   */
  unlink(): boolean {
    return this.list !== undefined && this.list.remove(this);
  }
}

/**
 * A FIFO list of nodes with O(1) `push`, `shift` and `remove`.
 *
 * @typeParam N The node type.
 */
export class List<N extends ListNode> {
  #head: ListNode | undefined = undefined;
  #tail: ListNode | undefined = undefined;
  #size = 0;

  /** The number of nodes in the list. */
  get size(): number {
    return this.#size;
  }

  /** The front node, or `undefined` when the list is empty. */
  get head(): N | undefined {
    return this.#head as N | undefined;
  }

  /** Appends `node` at the back. It must not be in a list already. */
  push(node: N): void {
    if (node.list !== undefined) {
      throw new Error("Internal error: a list node joined a second list");
    }
    node.list = this as unknown as List<ListNode>;
    node.prev = this.#tail;
    node.next = undefined;
    if (this.#tail === undefined) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
    this.#size++;
  }

  /** Removes and returns the front node, or `undefined` when empty. */
  shift(): N | undefined {
    const node = this.#head;
    if (node === undefined) return undefined;
    this.remove(node);
    return node as N;
  }

  /**
   * Removes `node` from this list.
   *
   * @returns `false` if the node was not in this list.
   */
  remove(node: ListNode): boolean {
    if (node.list !== (this as unknown as List<ListNode>)) return false;
    const { prev, next } = node;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    node.prev = undefined;
    node.next = undefined;
    node.list = undefined;
    this.#size--;
    return true;
  }

  /** Removes every node and returns them in order. */
  drain(): N[] {
    const out: N[] = [];
    for (let node = this.shift(); node !== undefined; node = this.shift()) {
      out.push(node);
    }
    return out;
  }
}
