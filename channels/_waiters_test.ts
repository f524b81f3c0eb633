// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import { List } from "../_list.ts";
import {
  RECEIVE_CLOSED_MESSAGE,
  receiveClosedError,
  type ReceiveWaiter,
  SEND_CLOSED_MESSAGE,
  sendClosedError,
  type SendWaiter,
  waitToReceive,
  waitToSend,
} from "./_waiters.ts";
import { ChannelClosedError } from "../errors/channel_closed_error.ts";

Deno.test("waitToReceive() settles with what the queue's owner hands its node", async () => {
  const receivers = new List<ReceiveWaiter<number>>();
  const first = waitToReceive(receivers, undefined);
  const second = waitToReceive(receivers, undefined);
  assert.equal(receivers.size, 2);
  receivers.shift()!.deliver(1);
  receivers.shift()!.end("stop");
  assert.equal(await first, 1);
  await assert.rejects(second, (error) => {
    assert.ok(error instanceof ChannelClosedError);
    assert.equal(error.cause, "stop");
    return true;
  });
});

Deno.test("waitToSend() resolves on accept, and fails with the caller's original value", async () => {
  const senders = new List<SendWaiter<object>>();
  const [copy, original] = [{ n: 1 }, { n: 1 }];
  const accepted = waitToSend(senders, copy, original, undefined);
  const failed = waitToSend(senders, copy, original, undefined);
  const node = senders.shift()!;
  assert.equal(node.value, copy);
  node.accept();
  senders.shift()!.fail(undefined);
  await accepted;
  await assert.rejects(failed, (error) => {
    assert.ok(error instanceof ChannelClosedError);
    assert.equal(error.value, original);
    return true;
  });
});

Deno.test("An aborted wait leaves its queue and rejects with signal.reason", async () => {
  const receivers = new List<ReceiveWaiter<number>>();
  const senders = new List<SendWaiter<number>>();
  const controller = new AbortController();
  const receiving = waitToReceive(receivers, controller.signal);
  const sending = waitToSend(senders, 1, 1, controller.signal);
  const reason = new Error("abandoned");
  controller.abort(reason);
  assert.equal(receivers.size, 0);
  assert.equal(senders.size, 0);
  await assert.rejects(receiving, (error) => error === reason);
  await assert.rejects(sending, (error) => error === reason);
});

Deno.test("An abort after the wait was served is ignored", async () => {
  const receivers = new List<ReceiveWaiter<number>>();
  const controller = new AbortController();
  const receiving = waitToReceive(receivers, controller.signal);
  // Served, and the abort comes in the same tick, before the promise settles.
  const node = receivers.shift()!;
  controller.abort(new Error("late"));
  node.deliver(7);
  assert.equal(await receiving, 7);
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
