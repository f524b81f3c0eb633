// Copyright the @seed/concurrency authors. MIT license.
// Stands in for untrusted task code in a worker with permissions "none". The
// worker's name says what it tries: "explicit" asks for read access through
// every path to Deno.permissions.request and then tries to redefine it,
// "implicit" just reads a file, "all" does both. It posts the states it saw,
// how the redefinition and the read ended.

const scope = self as unknown as {
  name: string;
  postMessage(message: unknown): void;
};
const mode = scope.name;
const descriptor = { name: "read" } as const;
const states: string[] = [];
let redefine = "not tried";
if (mode === "explicit" || mode === "all") {
  states.push((await Deno.permissions.request(descriptor)).state);
  states.push(Deno.permissions.requestSync(descriptor).state);
  const prototype = Object.getPrototypeOf(Deno.permissions) as Deno.Permissions;
  states.push(
    (await prototype.request.call(Deno.permissions, descriptor)).state,
  );
  states.push(prototype.requestSync.call(Deno.permissions, descriptor).state);
  try {
    Object.defineProperty(prototype, "request", { value: () => {} });
    redefine = "redefined";
  } catch (error) {
    redefine = (error as Error).name;
  }
}
let read = "not tried";
if (mode === "implicit" || mode === "all") {
  try {
    Deno.readTextFileSync(new URL(import.meta.url));
    read = "read";
  } catch (error) {
    read = (error as Error).name;
  }
}
states.push(Deno.permissions.querySync(descriptor).state);
scope.postMessage({ states, redefine, read });
