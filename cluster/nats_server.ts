// Copyright the @seed/concurrency authors. MIT license.

/**
 * A local NATS server with JetStream, started as a child process: for tests,
 * examples and trying the cluster on one machine.
 *
 * @module
 */

import { describe } from "../errors/_describe.ts";

/** Options for {@linkcode startNatsServer}. */
export interface NatsServerOptions {
  /**
   * The port to listen on, on 127.0.0.1.
   *
   * @default {a free port}
   */
  port?: number;
  /**
   * JetStream's file store. A directory made here is removed by `stop()`; one
   * given is kept.
   *
   * @default {a new temporary directory}
   */
  storeDir?: string;
  /**
   * The server's executable.
   *
   * @default {"nats-server"}
   */
  command?: string;
  /** Bounds the wait for the server to be ready; the server is stopped. */
  signal?: AbortSignal;
}

/**
 * A running `nats-server -js`, as {@linkcode startNatsServer} returns it.
 *
 * @example Starting and stopping
 * ```ts
 * import { startNatsServer } from "@seed/concurrency/cluster";
 * import assert from "node:assert/strict";
 *
 * const server = await startNatsServer();
 * assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
 * await server.stop();
 * ```
 */
export class NatsServer implements AsyncDisposable {
  /** The port it listens on. */
  readonly port: number;
  /** The JetStream file store. */
  readonly storeDir: string;
  readonly #command: string;
  readonly #ownsDir: boolean;
  #child: Deno.ChildProcess | undefined;
  #output: Promise<void> = Promise.resolve();

  /**
   * Describes a server; {@linkcode startNatsServer} makes and starts one.
   *
   * @param port The port.
   * @param storeDir The JetStream store.
   * @param command The executable.
   * @param ownsDir Whether `stop()` removes the store.
   *
   * @example Describing a server, then starting it
   * ```ts
   * import { NatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * const store = await Deno.makeTempDir();
   * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const port = listener.addr.port;
   * listener.close();
   * await using server = new NatsServer(port, store, "nats-server", true);
   * await server.start();
   * assert.equal(server.url, `nats://127.0.0.1:${port}`);
   * ```
   */
  constructor(
    port: number,
    storeDir: string,
    command: string,
    ownsDir: boolean,
  ) {
    this.port = port;
    this.storeDir = storeDir;
    this.#command = command;
    this.#ownsDir = ownsDir;
  }

  /**
   * The URL clients connect to: `nats://127.0.0.1:<port>`.
   *
   * @example The URL
   * ```ts
   * import { startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * assert.equal(server.url, `nats://127.0.0.1:${server.port}`);
   * ```
   */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /**
   * Starts the process and resolves once it says it is ready.
   *
   * @param signal Bounds the wait.
   * @returns A promise that resolves when the server takes connections.
   * @throws {Error} If the server exits before it is ready.
   * @throws {unknown} `signal.reason`, if the signal aborts first.
   *
   * @example Restarting on the same port and store
   * ```ts
   * import { startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const port = server.port;
   * await server.stop({ keepStore: true });
   * await server.start();
   * assert.equal(server.port, port);
   * ```
   */
  async start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#child !== undefined) return;
    const child = new Deno.Command(this.#command, {
      args: [
        "-js",
        "-sd",
        this.storeDir,
        "-a",
        "127.0.0.1",
        "-p",
        `${this.port}`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const ready = Promise.withResolvers<void>();
    const log: string[] = [];
    this.#output = (async () => {
      const lines = child.stderr.pipeThrough(new TextDecoderStream());
      let buffer = "";
      for await (const text of lines) {
        buffer += text;
        if (buffer.includes("Server is ready")) ready.resolve();
        log.push(text);
        if (log.length > 50) log.shift();
        buffer = buffer.slice(-64);
      }
    })();
    const exited = child.status.then((status) => {
      throw new Error(
        `Cannot start nats-server as it exited with code ${status.code}: ${
          log.join("").trim().slice(-500)
        }`,
      );
    });
    const onAbort = () => ready.reject(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await Promise.race([ready.promise, exited]);
    } catch (error) {
      await this.stop({ keepStore: true });
      throw error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      exited.catch(() => {});
    }
  }

  /**
   * Stops the server (`SIGTERM`, which lets it flush its store) and waits
   * for it to exit. Removes the store if it made it, unless `keepStore`.
   * Stopping a stopped server does nothing.
   *
   * @param options `keepStore` keeps the store for a later `start()`.
   * @returns A promise that resolves when the process has exited.
   *
   * @example Stopping
   * ```ts
   * import { startNatsServer } from "@seed/concurrency/cluster";
   *
   * const server = await startNatsServer();
   * await server.stop();
   * await server.stop();
   * ```
   */
  async stop(options?: { keepStore?: boolean }): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child !== undefined) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Exited already.
      }
      await child.status;
      await this.#output.catch(() => {});
    }
    if (this.#ownsDir && !options?.keepStore) {
      await Deno.remove(this.storeDir, { recursive: true }).catch(() => {});
    }
  }

  /**
   * Stops the server and removes a store it made.
   *
   * @returns A promise that resolves when the process has exited.
   *
   * @example Scoped server
   * ```ts
   * import { startNatsServer } from "@seed/concurrency/cluster";
   *
   * await using server = await startNatsServer();
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Starts `nats-server -js -sd <store> -a 127.0.0.1 -p <port>` and resolves
 * once it is ready. Needs `nats-server` on the `PATH` (Debian and Ubuntu:
 * `apt-get install nats-server`) and `--allow-run`, `--allow-net` and
 * `--allow-write` for the store.
 *
 * @param options Port, store, executable and `signal`.
 * @returns The running server.
 * @throws {RangeError} If `port` is not a port number.
 * @throws {Deno.errors.NotFound} If the executable is missing.
 * @throws {Error} If the server exits before it is ready.
 *
 * @example A server for a test
 * ```ts
 * import { startNatsServer } from "@seed/concurrency/cluster";
 * import assert from "node:assert/strict";
 *
 * await using server = await startNatsServer({ signal: AbortSignal.timeout(30_000) });
 * assert.ok(server.port > 0);
 * ```
 */
export async function startNatsServer(
  options: NatsServerOptions = {},
): Promise<NatsServer> {
  const { port } = options;
  if (
    port !== undefined &&
    (!Number.isInteger(port) || port < 1 || port > 65535)
  ) {
    throw new RangeError(
      `Cannot start nats-server as 'port' must be an integer from 1 to 65535: received ${
        describe(port)
      }`,
    );
  }
  const storeDir = options.storeDir ??
    await Deno.makeTempDir({ prefix: "seed-nats-" });
  const server = new NatsServer(
    port ?? freePort(),
    storeDir,
    options.command ?? "nats-server",
    options.storeDir === undefined,
  );
  try {
    await server.start(options.signal);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** A port nothing listens on now, from the system. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
