// Copyright the @seed/concurrency authors. MIT license.
import assert from "node:assert/strict";
import { Conditions } from "./_conditions.ts";

Deno.test("Conditions.until() resolves at the first change after which the condition holds", async () => {
  const conditions = new Conditions();
  let n = 0;
  let resolved = false;
  const wait = conditions.until(() => n >= 2).then(() => resolved = true);
  n = 1;
  conditions.changed();
  await Promise.resolve();
  assert.equal(resolved, false);
  assert.equal(conditions.size, 1);
  n = 2;
  conditions.changed();
  await wait;
  assert.equal(conditions.size, 0);
  await conditions.until(() => true); // holds already
});

Deno.test("Conditions.until() rejects with the signal's reason and forgets the wait", async () => {
  const conditions = new Conditions();
  const controller = new AbortController();
  const wait = conditions.until(() => false, controller.signal);
  controller.abort(new Error("enough"));
  await assert.rejects(wait, /enough/);
  assert.equal(conditions.size, 0);
  await assert.rejects(
    conditions.until(() => false, AbortSignal.abort(new Error("early"))),
    /early/,
  );
  assert.equal(conditions.size, 0);
});
