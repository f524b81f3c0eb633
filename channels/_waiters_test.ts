// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  RECEIVE_CLOSED_MESSAGE,
  receiveClosedError,
  SEND_CLOSED_MESSAGE,
  sendClosedError,
  WaiterNode,
  WaiterQueue,
} from "./_waiters.ts";
import { ChannelClosedError } from "../errors/channel_closed_error.ts";

class Node extends WaiterNode {
  constructor(readonly id: number) {
    super();
  }
}

function drain(queue: WaiterQueue<Node>): number[] {
  const ids: number[] = [];
  let node: Node | undefined;
  while ((node = queue.shift()) !== undefined) ids.push(node.id);
  return ids;
}

Deno.test("WaiterQueue.shift() returns nodes in FIFO order and leaves them unlinked", () => {
  const queue = new WaiterQueue<Node>();
  const nodes = [new Node(1), new Node(2), new Node(3)];
  for (const node of nodes) queue.push(node);
  assert.equal(queue.length, 3);
  assert.equal(queue.shift(), nodes[0]);
  assert.equal(nodes[0]!.queue, null);
  assert.equal(nodes[0]!.next, null);
  assert.deepEqual(drain(queue), [2, 3]);
  assert.equal(queue.shift(), undefined);
  assert.equal(queue.length, 0);
});

Deno.test("WaiterNode.unlink() removes a node from the front, middle or back, once", () => {
  for (const removed of [0, 1, 2]) {
    const queue = new WaiterQueue<Node>();
    const nodes = [new Node(0), new Node(1), new Node(2)];
    for (const node of nodes) queue.push(node);
    nodes[removed]!.unlink();
    nodes[removed]!.unlink(); // a second unlink does nothing
    assert.equal(queue.length, 2);
    assert.deepEqual(drain(queue), [0, 1, 2].filter((id) => id !== removed));
  }
});

Deno.test("WaiterQueue behaves like an array queue for any sequence of push, shift and remove", () => {
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
        const queue = new WaiterQueue<Node>();
        const model: Node[] = [];
        let id = 0;
        for (const operation of operations) {
          if (operation.kind === "push") {
            const node = new Node(id++);
            queue.push(node);
            model.push(node);
          } else if (operation.kind === "shift") {
            assert.equal(queue.shift(), model.shift());
          } else if (model.length > 0) {
            const [node] = model.splice(operation.at % model.length, 1);
            node!.unlink();
          }
          assert.equal(queue.length, model.length);
        }
        assert.deepEqual(drain(queue), model.map((node) => node.id));
      },
    ),
  );
});

Deno.test("sendClosedError() carries the value, and the reason as cause only when given", () => {
  const plain = sendClosedError(1, undefined);
  assert.ok(plain instanceof ChannelClosedError);
  assert.equal(plain.message, SEND_CLOSED_MESSAGE);
  assert.equal(plain.value, 1);
  assert.equal("cause" in plain, false);
  assert.equal(sendClosedError(1, "stop").cause, "stop");
});

Deno.test("receiveClosedError() has no value, and the reason as cause only when given", () => {
  const plain = receiveClosedError(undefined);
  assert.equal(plain.message, RECEIVE_CLOSED_MESSAGE);
  assert.equal("value" in plain, false);
  assert.equal("cause" in plain, false);
  assert.equal(receiveClosedError("stop").cause, "stop");
});
