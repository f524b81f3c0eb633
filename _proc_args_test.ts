// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import {
  childArgs,
  detectConfig,
  permissionFlags,
  staticEntry,
} from "./_proc_args.ts";
import { parsePermissions } from "./_sandbox.ts";

Deno.test("permissionFlags() turns a permissions object into --allow flags", () => {
  const parsed = parsePermissions({
    read: ["/data", new URL("file:///etc/hosts")],
    net: true,
    env: ["HOME"],
  });
  assert.deepStrictEqual(permissionFlags(parsed), [
    "--allow-env=HOME",
    "--allow-net",
    "--allow-read=/data,/etc/hosts",
  ]);
});

Deno.test("permissionFlags() keeps Deno from adding -A when nothing is granted", () => {
  assert.deepStrictEqual(permissionFlags("none"), ["--deny-ffi"]);
  assert.deepStrictEqual(permissionFlags(parsePermissions({})), [
    "--deny-ffi",
  ]);
});

Deno.test("permissionFlags() passes on what this process holds in full for inherit", () => {
  // deno test -A: everything is held in full.
  assert.deepStrictEqual(permissionFlags(undefined), [
    "--allow-env",
    "--allow-ffi",
    "--allow-import",
    "--allow-net",
    "--allow-read",
    "--allow-run",
    "--allow-sys",
    "--allow-write",
  ]);
});

Deno.test("permissionFlags() refuses a list entry with a comma", () => {
  assert.throws(
    () => permissionFlags(parsePermissions({ read: ["/a,b"] })),
    RangeError,
  );
});

Deno.test("childArgs() adds --no-prompt, config, permissions and the heap limit", () => {
  assert.deepStrictEqual(
    childArgs({
      entry: "file:///x.ts",
      permissions: "none",
      maxMemoryMb: 64,
      configFlags: ["--config=/p/deno.json"],
    }),
    [
      "run",
      "--no-prompt",
      "--config=/p/deno.json",
      "--deny-ffi",
      "--v8-flags=--max-old-space-size=64",
      "file:///x.ts",
    ],
  );
  assert.throws(
    () =>
      childArgs({
        entry: "file:///x.ts",
        permissions: "none",
        maxMemoryMb: 0,
        configFlags: [],
      }),
    RangeError,
  );
});

Deno.test("detectConfig() finds the deno.json this test runs under", () => {
  const { flags, source } = detectConfig();
  const expected = new URL("./deno.json", import.meta.url).pathname;
  assert.deepStrictEqual(flags, [`--config=${expected}`]);
  assert.ok(source === "command line" || source === "discovered", source);
});

Deno.test("staticEntry() imports the bootstrap before the task module", () => {
  const url = staticEntry("file:///c.ts", "file:///t.ts");
  const source = decodeURIComponent(url.slice("data:text/javascript,".length));
  assert.ok(source.indexOf("file:///c.ts") < source.indexOf("file:///t.ts"));
});
