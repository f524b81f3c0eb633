// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the command line of a process worker,
 * `deno run --no-prompt <config> <permissions> [--v8-flags=...] <entry>`.
 *
 * **Permissions** come from the pool's `permissions` option as
 * `parsePermissions` (`_sandbox.ts`) returns it:
 * - `"inherit"` (no option): each permission this process holds in full
 *   becomes `--allow-<name>`. A permission held only in part (say
 *   `--allow-read=./data`) is not passed on: Deno reports it as "prompt"
 *   and no API lists what was granted, so the child gets less, never more.
 * - `"none"`: no `--allow-*` flag (but `--deny-ffi`, see below).
 * - an object: `true` is `--allow-<name>`, a list is
 *   `--allow-<name>=a,b` (file URLs become paths), `"inherit"` is as above
 *   for that name, `false` is nothing.
 * - always `--no-prompt`: task code can never ask the operator for more.
 *
 * **Config.** A task module that imports through the user's `deno.json`
 * (import map, `npm:` packages) needs the child to use the same file. Deno
 * 2.9.6 finds a config file by walking up from the main module's directory
 * (a local main module; `cd` does not matter), and the child's main module is
 * this library's entry, so the parent's choice is passed on explicitly
 * ({@linkcode detectConfig}).
 *
 * @module
 */

import {
  launchFlags,
  PERMISSION_NAMES,
  type PermissionName,
} from "./_sandbox.ts";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

const NAMES = PERMISSION_NAMES;
type Name = PermissionName;

/** Where the config flags of a child come from. */
export interface ConfigChoice {
  /** Flags for the child: `--config=<path>`, `--no-config`, or none. */
  readonly flags: readonly string[];
  /** How they were found, for reports and errors. */
  readonly source: "command line" | "discovered" | "none found" | "unknown";
}

/**
 * Works out which config file this process uses, so a child can use it too:
 * - from Deno's own command line (`--config`, `-c`, `--no-config`), where
 *   `/proc/self/cmdline` is readable (Linux, with every permission granted);
 * - otherwise as Deno finds it: the nearest `deno.json` or `deno.jsonc`
 *   above the main module (or the working directory, for a remote main
 *   module), which needs read permission for those paths.
 *
 * @returns The flags, and `"unknown"` when neither way works (no flags:
 *   the child then finds a config as Deno would for the library's entry).
 */
export function detectConfig(): ConfigChoice {
  const argv = launchFlags();
  if (argv !== undefined) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i] as string;
      if (arg === "--no-config") {
        return { flags: ["--no-config"], source: "command line" };
      }
      const value = arg === "--config" || arg === "-c"
        ? argv[i + 1]
        : arg.startsWith("--config=")
        ? arg.slice("--config=".length)
        : undefined;
      if (value !== undefined) {
        return {
          flags: [`--config=${resolve(Deno.cwd(), value)}`],
          source: "command line",
        };
      }
    }
  }
  try {
    const main = new URL(Deno.mainModule);
    let dir = main.protocol === "file:"
      ? dirname(fromFileUrl(main))
      : Deno.cwd();
    while (true) {
      for (const name of ["deno.json", "deno.jsonc"]) {
        const path = join(dir, name);
        if (isFile(path)) {
          return { flags: [`--config=${path}`], source: "discovered" };
        }
      }
      const parent = dirname(dir);
      if (parent === dir) return { flags: [], source: "none found" };
      dir = parent;
    }
  } catch {
    return { flags: [], source: "unknown" };
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function isGranted(name: Name): boolean {
  try {
    return Deno.permissions.querySync({ name }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The `--allow-*` flags for `permissions` (from `parsePermissions`;
 * `undefined` means `"inherit"`).
 *
 * @throws {RangeError} If a list entry holds a comma, which Deno's flags
 *   cannot carry.
 */
export function permissionFlags(
  permissions: Deno.PermissionOptions | undefined,
): string[] {
  const flags: string[] = [];
  for (const name of permissions === "none" ? [] : NAMES) {
    const value = permissions === undefined || permissions === "inherit"
      ? "inherit"
      : (permissions as Deno.PermissionOptionsObject)[name] ?? false;
    if (value === true || (value === "inherit" && isGranted(name))) {
      flags.push(`--allow-${name}`);
    } else if (Array.isArray(value) && value.length > 0) {
      const entries = value.map((entry: string | URL) => {
        const text = entry instanceof URL ? fromFileUrl(entry) : entry;
        if (text.includes(",")) {
          throw new RangeError(
            `Cannot start a process worker as 'permissions.${name}' has an entry with a comma, which Deno's --allow-${name} flag cannot carry: received ${
              JSON.stringify(text)
            }`,
          );
        }
        return text;
      });
      flags.push(`--allow-${name}=${entries.join(",")}`);
    }
  }
  // Deno 2.9.6's node:child_process adds -A to `deno run` when the command
  // line has no --allow-* or --deny-* flag (a Node child has every
  // permission). A deny flag for a permission not granted changes nothing
  // (under --no-prompt it is denied anyway) and keeps -A out.
  if (flags.length === 0) flags.push("--deny-ffi");
  return flags;
}

/** What a child's command line is made of. */
export interface ChildArgsOptions {
  /** The URL `deno run` starts: `_proc_child.ts` or a generated entry. */
  readonly entry: string;
  readonly permissions: Deno.PermissionOptions | undefined;
  /** The child's V8 heap limit, in MB, if any. */
  readonly maxMemoryMb?: number | undefined;
  /** Config flags, from {@linkcode detectConfig}. */
  readonly configFlags: readonly string[];
}

/**
 * The arguments of `Deno.execPath()` for a child.
 *
 * @throws {RangeError} If `maxMemoryMb` is not a positive integer, or as
 *   {@linkcode permissionFlags}.
 */
export function childArgs(options: ChildArgsOptions): string[] {
  const args = ["run", "--no-prompt", ...options.configFlags];
  args.push(...permissionFlags(options.permissions));
  const mb = options.maxMemoryMb;
  if (mb !== undefined) {
    if (!Number.isInteger(mb) || mb < 1) {
      throw new RangeError(
        `Cannot start a process worker as 'maxMemoryMb' must be a positive integer: received ${mb}`,
      );
    }
    args.push(`--v8-flags=--max-old-space-size=${mb}`);
  }
  args.push(options.entry);
  return args;
}

/**
 * A `data:` module that imports the child bootstrap, then the task module,
 * and hands the module over: a sandboxed child loads it without read
 * permission (static imports need none), and the bootstrap runs first.
 */
export function staticEntry(childUrl: string, moduleUrl: string): string {
  const source = `import { startChild } from ${JSON.stringify(childUrl)};\n` +
    `import * as taskModule from ${JSON.stringify(moduleUrl)};\n` +
    `startChild(taskModule);\n`;
  return `data:text/javascript,${encodeURIComponent(source)}`;
}
