// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the thread sandbox of a pool whose `permissions` option is not
 * `"inherit"`. Three steps, in this order:
 *
 * 1. {@linkcode parsePermissions} checks the option once, up front.
 * 2. {@linkcode assertSandboxSupported} refuses, with an error that says how
 *    to fix it, when Deno would exit the process on `new Worker` or when task
 *    code could make Deno ask the operator for more permissions.
 * 3. {@linkcode sealPermissions} runs inside each sandboxed worker before any
 *    task code and turns `Deno.permissions.request()` into a query.
 *
 * ## Trust model
 *
 * A sandboxed pool runs task code in Web Workers created with
 * `deno: { permissions }`. Deno checks every file, network, environment,
 * subprocess, FFI, system-information and remote-import access of that code
 * against the worker's permissions, which can never exceed the process's
 * own. The pool also refuses to start where Deno could ask the operator to
 * grant more: in a terminal, Deno would otherwise print a permission prompt
 * for any access outside the set (an explicit `Deno.permissions.request()` or
 * just a `Deno.readTextFile()`), and one "y" would grant it to task code, even
 * beyond what the process was started with. So run sandboxed pools with
 * `--no-prompt` (or `DENO_NO_PROMPT=1`), without a terminal, or under
 * `deno test`. What the sandbox cannot do: it does not limit CPU (a busy
 * loop holds a core, and `terminate()` cannot stop it) or memory, and task
 * code may start workers of its own (with no more permissions than its
 * own), so neither is bounded by the pool's size; tasks on the same worker
 * share its globals, so one task can leave state or traps for the next
 * unless `maxTasksPerWorker: 1`; and task code runs in the same JavaScript
 * realm as the pool's worker bootstrap, so it can tamper with the worker's
 * side of the protocol, its shared memory and any process-wide Web Lock
 * whose name it learns, and can exit or crash its own worker. Treat what a
 * sandboxed worker posts as untrusted input.
 *
 * ## What Deno 2.9.6 does
 *
 * - Without `--unstable-worker-options` (or `"unstable": ["worker-options"]`
 *   in deno.json; no environment variable enables it), `new Worker` with
 *   `deno.permissions` prints an error and exits the process with code 70.
 *   No JavaScript API reports the flag, so the check reads Deno's command
 *   line (Linux, with every permission granted) or the unstable flags that
 *   `node:child_process.fork()` forwards to a child Deno, which include those
 *   from deno.json (needs `--allow-run` and `--allow-env`; it starts no
 *   process). Where neither is possible, the check fails closed.
 * - `"none"`, `false` and a list of paths all leave a permission in the state
 *   `"prompt"`, never `"denied"`, and the worker inherits the process's
 *   prompting. Deno prompts only when stdin and stderr are terminals and
 *   neither `--no-prompt` nor `DENO_NO_PROMPT=1` was given; `deno test` and
 *   `deno bench` never prompt.
 *
 * @module
 */

import { isWorkerThread } from "./_env.ts";
import { describe } from "./errors/_describe.ts";

/** The names of Deno's permissions, as `Deno.PermissionOptions` keys. */
export const PERMISSION_NAMES = [
  "env",
  "ffi",
  "import",
  "net",
  "read",
  "run",
  "sys",
  "write",
] as const;
const NAMES = PERMISSION_NAMES;
/** A permission's name. */
export type PermissionName = typeof PERMISSION_NAMES[number];
type Name = PermissionName;
type Value = "inherit" | boolean | Array<string | URL>;

/** What a list of each permission holds, plural and singular. */
const ENTRIES: Record<Name, readonly [string, string]> = {
  env: ["variable names", "a variable name"],
  ffi: ["paths", "a path or a file URL"],
  import: ["hosts", "a host"],
  net: ["hosts", "a host"],
  read: ["paths", "a path or a file URL"],
  run: ["programs", "a program name, a path or a file URL"],
  sys: ["system API names", "a system API name"],
  write: ["paths", "a path or a file URL"],
};
const TAKES_URLS: ReadonlySet<Name> = new Set(["ffi", "read", "run", "write"]);

const FLAG = "--unstable-worker-options";
const HOW_TO_ENABLE =
  `Deno's ${FLAG} flag (or "unstable": ["worker-options"] in deno.json)`;

// Captured at load, before any task code can replace them.
const permissions = Deno.permissions;
const permissionsPrototype = Object.getPrototypeOf(permissions) as object;
const query = permissions.query;
const querySync = permissions.querySync;
const apply = Reflect.apply;
const defineProperty = Object.defineProperty;

/**
 * Checks a pool's `permissions` option against what Deno 2.9.6 accepts for
 * `new Worker(url, { deno: { permissions } })`, so that a mistake is reported
 * when the pool is created rather than when its first worker starts.
 *
 * An object may have the keys `env`, `ffi`, `import`, `net`, `read`, `run`,
 * `sys` and `write` (Deno 2 has no `hrtime`). Each is `"inherit"`, a
 * boolean, or a list: of strings, or for `ffi`, `read`, `run` and `write`
 * also file URLs. A missing key means `false`, as in Deno; the result spells
 * every key out. Whether a list entry names a real host or system API, and
 * whether the process holds what is granted, Deno checks when it creates the
 * worker, with an error the pool can catch.
 *
 * @param value The option as given.
 * @returns `undefined` for `"inherit"` or no option (no sandbox), `"none"`,
 * or a new permissions object with every key set and its lists copied.
 * @throws {TypeError} If the value is not `"inherit"`, `"none"` or a plain
 * object, if the object has an unknown key, or if a key or a list entry has
 * the wrong type.
 * @throws {RangeError} If a list entry is an empty string or a URL that is
 * not a file URL.
 *
 * @example Spelling out a permissions object
 * ```ts
 * import { parsePermissions } from "./_sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parsePermissions("inherit"), undefined);
 * assert.deepEqual(parsePermissions({ read: ["./data"] }), {
 *   env: false,
 *   ffi: false,
 *   import: false,
 *   net: false,
 *   read: ["./data"],
 *   run: false,
 *   sys: false,
 *   write: false,
 * });
 * assert.throws(() => parsePermissions({ read: "x" }), TypeError);
 * ```
 */
export function parsePermissions(
  value: unknown,
): Deno.PermissionOptions | undefined {
  if (value === undefined || value === "inherit") return undefined;
  if (value === "none") return "none";
  if (!isPlainObject(value)) {
    throw new TypeError(
      `Cannot create pool as 'permissions' must be "inherit", "none" or a permissions object: received ${
        describe(value)
      }`,
    );
  }
  for (const key of Reflect.ownKeys(value)) {
    if (
      typeof key !== "string" || !(NAMES as readonly string[]).includes(key)
    ) {
      throw new TypeError(
        `Cannot create pool as 'permissions' has an unknown key ${
          typeof key === "string" ? JSON.stringify(key) : describe(key)
        }: expected ${NAMES.slice(0, -1).join(", ")} or ${NAMES.at(-1)}`,
      );
    }
  }
  const result: Record<Name, Value> = Object.create(null);
  for (const name of NAMES) {
    result[name] = Object.hasOwn(value, name)
      ? parseValue(name, value[name])
      : false;
  }
  return { ...result } as Deno.PermissionOptionsObject;
}

function parseValue(name: Name, value: unknown): Value {
  if (value === undefined) return false;
  if (typeof value === "boolean" || value === "inherit") return value;
  if (!Array.isArray(value)) {
    throw new TypeError(
      `Cannot create pool as 'permissions.${name}' must be "inherit", a boolean or an array of ${
        ENTRIES[name][0]
      }: received ${describe(value)}`,
    );
  }
  return Array.from(value, (entry, index) => {
    const where = `'permissions.${name}[${index}]'`;
    if (typeof entry === "string") {
      if (entry !== "") return entry;
      throw new RangeError(`Cannot create pool as ${where} is empty`);
    }
    if (entry instanceof URL && TAKES_URLS.has(name)) {
      if (entry.protocol === "file:") return new URL(entry.href);
      throw new RangeError(
        `Cannot create pool as ${where} must be a file URL: received ${
          JSON.stringify(entry.href)
        }`,
      );
    }
    throw new TypeError(
      `Cannot create pool as ${where} must be ${ENTRIES[name][1]}: received ${
        describe(entry)
      }`,
    );
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Throws unless this process can create workers with the given permissions
 * safely: Deno must have restricted worker permissions enabled (otherwise
 * `new Worker` exits the whole process with code 70, which nothing can
 * catch), and no permission prompt may reach an operator.
 *
 * **Flag.** Whether the flag is on is worked out by the first call that can
 * tell, and kept. It is known for certain when every permission is granted
 * on Linux (from `/proc/self/cmdline`, in well under a millisecond), or when
 * `run` and `env` are granted (from the unstable flags that
 * `node:child_process.fork()` forwards, which include those set in
 * deno.json; about 40 to 60 ms, once, and no process starts). Otherwise it
 * cannot be known, and the check fails closed: a compiled program
 * (`deno compile`) or a process without those permissions cannot create a
 * sandboxed pool.
 *
 * **Prompts.** Checked on every call, as it depends on `permissions`: when
 * stdin and stderr are both terminals, each permission the workers do not
 * get outright (`true`, or `"inherit"` of one the process holds in full)
 * could be prompted for, unless prompts are known to be off: `--no-prompt`,
 * `deno test` or `deno bench` seen on the command line, or
 * `DENO_NO_PROMPT=1` readable with the env permission already granted.
 * {@linkcode sealPermissions} cannot stop these prompts, since any access
 * check can prompt.
 *
 * @param permissions The workers' permissions, from
 * {@linkcode parsePermissions}.
 * @throws {Error} If the flag is off or cannot be confirmed, or if task code
 * could make Deno prompt the operator; the message names the remedy.
 *
 * @example Checking before creating a sandboxed worker
 * ```ts ignore
 * import { assertSandboxSupported, parsePermissions } from "./_sandbox.ts";
 *
 * const permissions = parsePermissions("none");
 * if (permissions !== undefined) assertSandboxSupported(permissions);
 * ```
 */
export function assertSandboxSupported(
  permissions: Deno.PermissionOptions,
): void {
  flagFound ??= findFlag();
  if (flagFound !== true) throw new Error(flagMessage(flagFound));
  const prompted = NAMES.filter((name) => isPromptable(permissions, name));
  if (prompted.length > 0 && canPrompt()) {
    throw new Error(
      `Cannot create pool as task code could make Deno ask the operator at this terminal for ${
        prompted.join(", ")
      } access: run Deno with --no-prompt (or DENO_NO_PROMPT=1), or without a terminal`,
    );
  }
}

// Only definite answers are kept: a check that could not be made is tried
// again on the next call, in case permissions were granted since.
let flagFound: boolean | undefined;
let launch: readonly string[] | undefined;
let promptsOff = false;

/** Whether the flag is on, or `undefined` if that cannot be known. */
function findFlag(): boolean | undefined {
  if (launchFlags()?.includes(FLAG)) return true;
  return forwardedArgs()?.includes(FLAG);
}

function flagMessage(found: false | undefined): string {
  const needs = `Cannot create pool as 'permissions' needs ${HOW_TO_ENABLE}`;
  if (found === false) return `${needs}, which this process does not have`;
  return `${needs}, and this process cannot confirm it has it: ${
    Deno.build.standalone
      ? "a compiled program does not report its flags"
      : "run Deno with --allow-run and --allow-env (or -A) so the pool can check"
  }, because without the flag Deno would exit the process`;
}

/**
 * Deno's own arguments (subcommand, flags, script) from `/proc/self/cmdline`,
 * where readable (Linux, every permission granted), read once.
 */
export function launchFlags(): readonly string[] | undefined {
  launch ??= readLaunchFlags();
  return launch;
}

function readLaunchFlags(): readonly string[] | undefined {
  // Deno lets code read /proc/self only with every permission granted;
  // querying first means no prompt and no NotCapable error.
  if (Deno.build.os !== "linux" || Deno.build.standalone) return undefined;
  if (!NAMES.every((name) => isGranted({ name }))) return undefined;
  try {
    const argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    if (argv.at(-1) === "") argv.pop();
    // deno <subcommand> <flags> <script> <Deno.args>: the script's own
    // arguments are dropped, so they cannot pass for Deno's flags.
    return argv.slice(1, argv.length - Deno.args.length);
  } catch {
    return undefined;
  }
}

interface ChildProcessModule {
  fork(module: string, args: string[], options: object): {
    spawnargs?: unknown;
    on(event: "error", listener: () => void): unknown;
  };
}

/**
 * The arguments `node:child_process.fork()` would start a child Deno with:
 * Deno adds the unstable flags in force, from the command line or
 * deno.json. The program path lies inside the Deno executable file, so it
 * cannot exist and nothing starts.
 */
function forwardedArgs(): readonly string[] | undefined {
  if (Deno.build.standalone) return undefined;
  if (!isGranted({ name: "run" }) || !isGranted({ name: "env" })) {
    return undefined;
  }
  const process = (globalThis as {
    process?: { getBuiltinModule?(id: string): unknown };
  }).process;
  if (typeof process?.getBuiltinModule !== "function") return undefined;
  try {
    const { fork } = process.getBuiltinModule(
      "node:child_process",
    ) as ChildProcessModule;
    const separator = Deno.build.os === "windows" ? "\\" : "/";
    const child = fork("data:,", [], {
      execPath: `${Deno.execPath()}${separator}probe`,
      execArgv: [],
      env: {},
      stdio: ["ignore", "ignore", "ignore", "ipc"],
    });
    child.on("error", () => {});
    const args = child.spawnargs;
    if (!Array.isArray(args) || args[1] !== "run") return undefined;
    return args.filter((arg): arg is string => typeof arg === "string");
  } catch {
    return undefined;
  }
}

/** Whether a worker with these permissions could see `name` as "prompt". */
function isPromptable(permissions: Deno.PermissionOptions, name: Name) {
  const value = typeof permissions === "string"
    ? permissions
    : permissions[name] ?? false;
  if (value === true) return false;
  if (value === "inherit") return !isGranted({ name });
  return true;
}

function canPrompt(): boolean {
  if (!Deno.stdin.isTerminal() || !Deno.stderr.isTerminal()) return false;
  promptsOff ||= arePromptsOff();
  return !promptsOff;
}

function arePromptsOff(): boolean {
  const flags = launchFlags();
  if (flags !== undefined) {
    if (flags[0] === "test" || flags[0] === "bench") return true;
    if (flags.includes("--no-prompt")) return true;
  }
  // Deno reads the variable once, at startup; once seen, it is kept.
  return isGranted({ name: "env", variable: "DENO_NO_PROMPT" }) &&
    Deno.env.get("DENO_NO_PROMPT") === "1";
}

function isGranted(descriptor: Deno.PermissionDescriptor): boolean {
  return apply(querySync, permissions, [descriptor]).state === "granted";
}

let sealed = false;

/**
 * Makes `Deno.permissions.request()` and `requestSync()` answer like
 * `query()` and `querySync()`, on `Deno.permissions` and on its prototype,
 * so task code cannot ask the operator for a permission: it sees the current
 * state, which is "granted" only if it already was. The new methods are
 * neither writable nor configurable, and no reference to the old ones
 * remains. Calling it again does nothing.
 *
 * Call it in a sandboxed worker before any task code runs. Task code runs
 * when its module is evaluated, and a restricted worker can load local
 * modules only statically, so the worker entry must import a module that
 * calls this before it imports the task module: sibling static imports are
 * evaluated in order. A blob module works, for example
 * `import { sealPermissions } from "<this module>"; sealPermissions();`.
 *
 * It is a second line of defence only: any access check can still prompt
 * (an implicit prompt, such as `Deno.readTextFile()` in a terminal), and so
 * can a worker that task code starts itself (a `Worker` or a
 * `node:worker_threads` one), as its realm is not sealed. Only
 * {@linkcode assertSandboxSupported} keeps prompts away, by refusing a pool
 * where they are possible.
 *
 * @throws {Error} If called on the main thread, where it would take
 * `request()` away from the application itself.
 *
 * @example Sealing a worker before its task module loads
 * ```ts ignore
 * // seal.ts, imported by the worker entry before the task module
 * import { sealPermissions } from "./_sandbox.ts";
 *
 * sealPermissions();
 * ```
 */
export function sealPermissions(): void {
  if (sealed) return;
  if (!isWorkerThread()) {
    throw new Error(
      "Cannot seal permissions on the main thread: it is for sandboxed workers",
    );
  }
  const methods = {
    request(descriptor: Deno.PermissionDescriptor) {
      return apply(query, permissions, [descriptor]);
    },
    requestSync(descriptor: Deno.PermissionDescriptor) {
      return apply(querySync, permissions, [descriptor]);
    },
  };
  for (const target of [permissionsPrototype, permissions]) {
    for (const [key, value] of Object.entries(methods)) {
      defineProperty(target, key, {
        value,
        writable: false,
        enumerable: false,
        configurable: false,
      });
    }
  }
  sealed = true;
}
