// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { List, ListNode } from "./_list.ts";

class Node extends ListNode {
  constructor(readonly id: number) {
    super();
  }
}

function ids(list: List<Node>): number[] {
  return list.drain().map((node) => node.id);
}

Deno.test("List.shift() returns nodes in FIFO order and leaves them unlinked", () => {
  const list = new List<Node>();
  const nodes = [new Node(1), new Node(2), new Node(3)];
  for (const node of nodes) list.push(node);
  assert.equal(list.size, 3);
  assert.equal(list.head, nodes[0]);
  assert.equal(list.shift(), nodes[0]);
  assert.equal(nodes[0]!.linked, false);
  assert.equal(nodes[0]!.list, undefined);
  assert.equal(nodes[0]!.next, undefined);
  assert.equal(list.head, nodes[1]);
  assert.deepEqual(ids(list), [2, 3]);
  assert.equal(list.shift(), undefined);
  assert.equal(list.head, undefined);
  assert.equal(list.size, 0);
});

Deno.test("ListNode.unlink() removes a node from the front, middle or back, once", () => {
  for (const removed of [0, 1, 2]) {
    const list = new List<Node>();
    const nodes = [new Node(0), new Node(1), new Node(2)];
    for (const node of nodes) list.push(node);
    assert.equal(nodes[removed]!.unlink(), true);
    assert.equal(nodes[removed]!.unlink(), false); // a second unlink does nothing
    assert.equal(list.size, 2);
    assert.deepEqual(ids(list), [0, 1, 2].filter((id) => id !== removed));
  }
});

Deno.test("List.remove() leaves a node of another list alone", () => {
  const [a, b] = [new List<Node>(), new List<Node>()];
  const node = new Node(1);
  a.push(node);
  assert.equal(b.remove(node), false);
  assert.equal(node.list, a);
  assert.equal(a.size, 1);
  assert.equal(b.size, 0);
});

Deno.test("List.push() throws for a node already in a list, and changes nothing", () => {
  const [a, b] = [new List<Node>(), new List<Node>()];
  const node = new Node(1);
  a.push(node);
  assert.throws(() => b.push(node), /joined a second list/);
  assert.throws(() => a.push(node), /joined a second list/);
  assert.equal(a.size, 1);
  assert.equal(b.size, 0);
  assert.deepEqual(ids(a), [1]);
});

Deno.test("List behaves like an array queue for any sequence of push, shift and remove", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.constant({ kind: "push" as const }),
          fc.constant({ kind: "shift" as const }),
          fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }),
        ),
        { maxLength: 100 },
      ),
      (operations) => {
        const list = new List<Node>();
        const model: Node[] = [];
        let id = 0;
        for (const operation of operations) {
          if (operation.kind === "push") {
            const node = new Node(id++);
            list.push(node);
            model.push(node);
          } else if (operation.kind === "shift") {
            assert.equal(list.shift(), model.shift());
          } else if (model.length > 0) {
            const [node] = model.splice(operation.at % model.length, 1);
            assert.equal(node!.unlink(), true);
          }
          assert.equal(list.size, model.length);
          assert.equal(list.head, model[0]);
        }
        assert.deepEqual(ids(list), model.map((node) => node.id));
        for (const node of model) assert.equal(node.linked, false);
      },
    ),
  );
});
