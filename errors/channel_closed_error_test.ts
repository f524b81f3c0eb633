// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import { ChannelClosedError } from "./channel_closed_error.ts";

Deno.test("ChannelClosedError is an Error named ChannelClosedError", () => {
  const error = new ChannelClosedError();
  assert.ok(error instanceof Error);
  assert.ok(error instanceof ChannelClosedError);
  assert.equal(error.name, "ChannelClosedError");
  assert.equal(error.message, "Cannot use the channel as it is closed");
  assert.match(String(error.stack), /ChannelClosedError/);
});

Deno.test("ChannelClosedError has a value property only when given one", async (t) => {
  await t.step("no value", () => {
    const error = new ChannelClosedError("Closed");
    assert.equal("value" in error, false);
    assert.equal(error.value, undefined);
  });
  await t.step("an undefined value is still a value", () => {
    const error = new ChannelClosedError("Closed", { value: undefined });
    assert.equal(Object.hasOwn(error, "value"), true);
    assert.equal(error.value, undefined);
  });
  await t.step("the value is kept as is and is read-only", () => {
    const value = { id: 1 };
    const error = new ChannelClosedError("Closed", { value });
    assert.equal(error.value, value);
    assert.throws(() => {
      (error as { value: unknown }).value = 2;
    }, TypeError);
  });
});

Deno.test("ChannelClosedError keeps the close reason as cause only when given one", () => {
  const reason = new Error("Upstream failed");
  assert.equal(
    new ChannelClosedError("Closed", { cause: reason }).cause,
    reason,
  );
  assert.equal("cause" in new ChannelClosedError("Closed"), false);
  assert.equal(
    "cause" in new ChannelClosedError("Closed", { value: 1 }),
    false,
  );
});

Deno.test("ChannelClosedError carries value, name and cause as own properties", () => {
  // Own fields are what an error format that crosses workers copies.
  const error = new ChannelClosedError("Closed", { value: 7, cause: "stop" });
  assert.deepEqual(Object.keys(error).sort(), ["name", "value"]);
  assert.equal(Object.getOwnPropertyDescriptor(error, "cause")?.value, "stop");
});
