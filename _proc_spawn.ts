// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: one process worker as the parent sees it: a child `deno`
 * process (`Deno.execPath()`) running `_proc_child.ts`, its channel (fd 3,
 * frames of `_proc_frame.ts`), and how its end is noticed and explained.
 *
 * ```text
 *   starting --LIVE--> live --READY--> ready
 *       \               |  \--LOAD_ERROR--.    |
 *        `--------------+-------------------+--+--exit--> exited
 * ```
 *
 * - The child is started with `node:child_process` because Deno's
 *   `Deno.Command` offers no descriptor beyond stderr; fd 3 is a socket
 *   pair. stdin is /dev/null, stdout is the parent's, stderr is piped: it is
 *   copied to the parent's stderr (or to `onStderr`) and its tail is kept to
 *   explain a death (V8 prints "Fatal JavaScript out of memory" there).
 * - **The end.** `exited` resolves once the process has exited *and* its
 *   channel has been read to its end, so every message it wrote before it
 *   died (a FATAL report, the last results) reaches the host first. It
 *   resolves with the exit code or signal and a `cause` that names them
 *   ({@linkcode describeExit}).
 * - **Killing.** `kill()` sends SIGKILL: the process ends at once, even in a
 *   synchronous loop. `close()` ends the channel; the child exits by itself
 *   when it next reads (at once unless a task is running).
 * - **Trust.** Each message is checked (`checkChildMessage`); one that breaks
 *   the protocol, or a frame that breaks the format, kills the child and
 *   becomes its `cause`.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { childArgs, detectConfig, staticEntry } from "./_proc_args.ts";
import { FrameDecoder, FrameWriter } from "./_proc_frame.ts";
import {
  checkChildMessage,
  FATAL,
  initMessage,
  LIVE,
  LOAD_ERROR,
  READY,
} from "./_proc_protocol.ts";
import {
  deserializeError,
  type SerializedError,
} from "./errors/serialize_error.ts";

/** A process worker's lifecycle state. */
export type ProcessState = "starting" | "live" | "ready" | "exited";

/** How a child process ended. */
export interface ProcessExit {
  /** Its exit code, or `null` if a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, such as `"SIGKILL"`, or `null`. */
  readonly signal: string | null;
  /** Whether V8 stopped it for exceeding its heap limit. */
  readonly outOfMemory: boolean;
  /** Whether `kill()` ended it. */
  readonly killed: boolean;
  /**
   * Whether it broke the protocol (a bad frame or message): what it wrote
   * after its last good message is lost.
   */
  readonly broken: boolean;
  /** Why it ended, in words; its `cause` is what the child reported. */
  readonly cause: Error;
}

/** What the worker reports to its owner. */
export interface ProcessHost {
  /**
   * A checked message other than LIVE, READY, LOAD_ERROR and FATAL (after
   * LIVE).
   */
  onMessage?(worker: ProcessWorker, message: unknown[]): void;
}

/** How to start a process worker. */
export interface ProcessWorkerOptions {
  /** The task module, or `null` for none. */
  readonly moduleUrl: string | null;
  /** From `parsePermissions`: `undefined` inherits this process's own. */
  readonly permissions?: Deno.PermissionOptions | undefined;
  /** The child's V8 heap limit, in MB. */
  readonly maxMemoryMb?: number | undefined;
  /** Config flags; by default those of {@linkcode detectConfig}. */
  readonly configFlags?: readonly string[] | undefined;
  /** Receives the child's stderr; by default copied to this process's. */
  readonly onStderr?: ((chunk: Uint8Array) => void) | undefined;
  /** The bootstrap the child runs (tests run broken ones). */
  readonly childUrl?: string | undefined;
}

/**
 * A process's bootstrap: `_proc_child.ts` bundled by `tools/bundle_worker.ts`,
 * so a start loads one module of ours instead of 25 (about 13 ms less).
 */
const CHILD_URL = new URL("./_proc_child_bundle.js", import.meta.url).href;
/** Bytes of stderr kept to explain a death. */
const STDERR_TAIL = 8192;
// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const OOM = /Fatal JavaScript out of memory|JavaScript heap out of memory/;

/**
 * Explains how a child ended, from its exit code or signal, the tail of its
 * stderr, and what it reported (FATAL, LOAD_ERROR) before it died.
 */
export function describeExit(
  code: number | null,
  signal: string | null,
  stderrTail: string,
  reported: unknown,
  killed: boolean,
  broken = false,
): ProcessExit {
  const outOfMemory = OOM.test(stderrTail);
  const options = reported === undefined ? undefined : { cause: reported };
  let text: string;
  if (outOfMemory) {
    text =
      `The worker process ran out of memory: V8 stopped it at its heap limit (${
        signal ?? `exit code ${code}`
      })`;
  } else if (signal !== null) {
    text = `The worker process was killed by ${signal}${
      killed ? " (sent by the pool)" : ""
    }`;
  } else {
    text = `The worker process exited with code ${code}`;
    const last = stderrTail.replace(ANSI, "").trim().split("\n").at(-1);
    if (code !== 0 && reported === undefined && last) text += `: ${last}`;
  }
  return {
    code,
    signal,
    outOfMemory,
    killed,
    broken,
    cause: new Error(text, options),
  };
}

/** A child `deno` process that serves one pool worker. */
export class ProcessWorker {
  #state: ProcessState = "starting";
  readonly #child: ChildProcess;
  readonly #channel: Socket;
  readonly #writer: FrameWriter;
  readonly #host: ProcessHost;
  #pid = -1;
  #stderr = "";
  #reported: unknown = undefined;
  #killed = false;
  #broken = false;
  readonly #ready = Promise.withResolvers<void>();
  readonly #exited = Promise.withResolvers<ProcessExit>();

  /**
   * Starts the child and sends it INIT.
   *
   * @throws {unknown} What `spawn` throws (no `--allow-run`, say), or a
   *   `RangeError` from the options.
   */
  constructor(options: ProcessWorkerOptions, host: ProcessHost = {}) {
    this.#host = host;
    const sandboxed = options.permissions !== undefined &&
      options.permissions !== "inherit";
    const staticModule = sandboxed && options.moduleUrl !== null;
    const childUrl = options.childUrl ?? CHILD_URL;
    const args = childArgs({
      entry: staticModule
        ? staticEntry(childUrl, options.moduleUrl as string)
        : childUrl,
      permissions: options.permissions,
      maxMemoryMb: options.maxMemoryMb,
      configFlags: options.configFlags ?? detectConfig().flags,
    });
    this.#child = spawn(Deno.execPath(), args, {
      stdio: ["ignore", "inherit", "pipe", "pipe"],
    });
    this.#channel = this.#child.stdio[3] as Socket;
    this.#writer = new FrameWriter((bytes) =>
      new Promise<void>((resolve, reject) =>
        this.#channel.write(bytes, (e) => e ? reject(e) : resolve())
      )
    );
    const onStderr = options.onStderr ??
      ((chunk: Uint8Array) => void Deno.stderr.write(chunk).catch(() => {}));
    const decoder = new TextDecoder();
    this.#child.stderr?.on("data", (chunk: Uint8Array) => {
      this.#stderr = (this.#stderr + decoder.decode(chunk, { stream: true }))
        .slice(-STDERR_TAIL);
      onStderr(chunk);
    });
    this.#ready.promise.catch(() => {});
    this.#watch();
    this.#writer.send(initMessage(options.moduleUrl, staticModule));
  }

  /** Its lifecycle state. */
  get state(): ProcessState {
    return this.#state;
  }

  /** Its process id (known from spawn; the child confirms it in LIVE). */
  get pid(): number {
    return this.#child.pid ?? this.#pid;
  }

  /** Resolves once its task module is loaded; rejects if it never is. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Resolves once it has exited and its channel is read to the end. */
  get exited(): Promise<ProcessExit> {
    return this.#exited.promise;
  }

  /**
   * Sends `message` with the others of this tick.
   *
   * @returns `false` if the channel is gone (the child is dying).
   */
  send(message: unknown): boolean {
    if (this.#state === "exited") return false;
    return this.#writer.send(message);
  }

  /**
   * Encodes `message` now and sends it with the others of this tick.
   *
   * @returns `false` if the channel is gone (the child is dying).
   * @throws {Error} If `message` cannot be cloned (nothing is sent).
   */
  sendNow(message: unknown): boolean {
    if (this.#state === "exited") return false;
    return this.#writer.sendNow(message);
  }

  /** Resolves once what was sent so far is written to the channel. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  /** Ends the child at once (SIGKILL), whatever it is doing. */
  kill(): void {
    if (this.#state === "exited" || this.#killed) return;
    this.#killed = true;
    this.#child.kill("SIGKILL");
  }

  /** Ends the channel: the child exits by itself when it next reads. */
  close(): void {
    if (this.#state === "exited") return;
    void this.#writer.close().catch(() => {}).then(() => this.#channel.end());
  }

  #watch(): void {
    const decoder = new FrameDecoder();
    const inbox: unknown[] = [];
    const exit = Promise.withResolvers<[number | null, string | null]>();
    const drained = Promise.withResolvers<void>();
    this.#channel.on("data", (chunk: Uint8Array) => {
      if (this.#broken) return;
      let broken: { error: unknown } | undefined;
      try {
        decoder.push(chunk, inbox);
      } catch (error) {
        broken = { error };
      }
      // What came whole before a bad frame is read; nothing after it.
      for (const message of inbox) this.#receive(message);
      inbox.length = 0;
      if (broken !== undefined) this.#broke(broken.error);
    });
    this.#channel.on("close", () => drained.resolve());
    this.#channel.on("error", () => {});
    this.#child.on("error", (error) => {
      this.#reported ??= error;
      drained.resolve();
      exit.resolve([null, null]);
    });
    this.#child.on("exit", (code, signal) => exit.resolve([code, signal]));
    void Promise.all([exit.promise, drained.promise]).then(
      ([[code, signal]]) => {
        this.#state = "exited";
        const ended = describeExit(
          code,
          signal,
          this.#stderr,
          this.#reported,
          this.#killed,
          this.#broken,
        );
        this.#ready.reject(ended.cause);
        this.#exited.resolve(ended);
      },
    );
  }

  /**
   * The child broke the protocol: it is killed, this is why, and nothing it
   * says after is read.
   */
  #broke(cause: unknown): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#reported = cause;
    this.kill();
  }

  #receive(data: unknown): void {
    if (this.#state === "exited" || this.#broken) return;
    const problem = checkChildMessage(data);
    if (problem !== undefined) {
      return this.#broke(
        new Error(`The worker process broke the protocol: ${problem}`),
      );
    }
    const message = data as unknown[];
    switch (message[0]) {
      case LIVE:
        if (this.#state !== "starting") break;
        this.#state = "live";
        this.#pid = message[1] as number;
        return;
      case READY:
        if (this.#state !== "live") break;
        this.#state = "ready";
        this.#ready.resolve();
        return;
      case LOAD_ERROR:
      case FATAL:
        this.#reported ??= deserializeError(message[1] as SerializedError);
        if (message[0] === LOAD_ERROR) this.#ready.reject(this.#reported);
        return;
      default:
        if (this.#state === "starting") break;
        this.#host.onMessage?.(this, message);
        return;
    }
    this.#broke(
      new Error(
        `The worker process broke the protocol: message ${
          String(message[0])
        } while ${this.#state}`,
      ),
    );
  }
}
