// Copyright the @seed/concurrency authors. MIT license.
import assert from "node:assert/strict";
import { FnTable } from "./_fn_table.ts";

Deno.test("FnTable learns a function's time per item, believing faster runs at once", () => {
  const fns = new FnTable(true);
  const id = fns.idOf("square");
  assert.equal(fns.perItemMs(id), 0, "unknown before any run");
  fns.recordRun(id, 50, 10); // a cold first run: 5 ms per item
  assert.equal(fns.perItemMs(id), 5);
  fns.recordRun(id, 1, 100); // warm: 0.01 ms per item, believed at once
  assert.equal(fns.perItemMs(id), 0.01);
  fns.recordRun(id, 4, 100); // one slow run moves it a quarter of the way
  assert.ok(Math.abs(fns.perItemMs(id) - 0.0175) < 1e-12);
  assert.equal(fns.perItemMs(fns.idOf("other")), 0);
});
