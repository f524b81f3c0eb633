// Copyright the @seed/concurrency authors. MIT license.
// A child program for _sandbox_test.ts. Arguments, in any order:
//   check                      call assertSandboxSupported("none") first and
//                              print "CHECK ok" or "CHECK <message as JSON>";
//                              stop there if it threw
//   seal                       the worker seals its permissions first
//   explicit | implicit | all  start a worker with permissions "none" that
//                              runs attack.ts in this mode, and print
//                              "RESULT <what it posted as JSON>"
import { assertSandboxSupported } from "../../_sandbox.ts";

const args = new Set(Deno.args);
let go = true;
if (args.has("check")) {
  try {
    assertSandboxSupported("none");
    console.log("CHECK ok");
  } catch (error) {
    console.log(`CHECK ${JSON.stringify((error as Error).message)}`);
    go = false;
  }
}
const mode = ["explicit", "implicit", "all"].find((name) => args.has(name));
if (go && mode !== undefined) {
  const modules = args.has("seal") ? ["./seal.ts", "./attack.ts"] : [
    "./attack.ts",
  ];
  const source = modules
    .map((path) => `import ${JSON.stringify(new URL(path, import.meta.url))};`)
    .join("\n");
  const entry = URL.createObjectURL(
    new Blob([source], { type: "text/javascript" }),
  );
  const worker = new Worker(entry, {
    type: "module",
    name: mode,
    deno: { permissions: "none" },
  });
  const result = await new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message));
    };
  });
  worker.terminate();
  URL.revokeObjectURL(entry);
  console.log(`RESULT ${JSON.stringify(result)}`);
}
