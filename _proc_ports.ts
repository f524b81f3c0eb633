// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: `WorkerChannel`s and pipe ends across a process boundary. Both
 * live on `MessagePort`s (see `channels/`), which cannot cross to another
 * process, so each side of a process worker's channel keeps a
 * {@linkcode PortBridge}: a port in a task's arguments or result stays where
 * it is, and the other process gets a new port whose messages are carried
 * over the process channel as `[PORT, id, data]`.
 *
 * ```text
 *  parent                                        child process
 *  owner <-> port ==[PORT, id, data] on fd 3==> port2 <-> port1 <-> proxy
 * ```
 *
 * - **Where ports are.** Only in the wire markers of encoded values (see
 *   `_wire.ts`), as `data.port`: in TASKS records of mode `MODE_WIRE` and
 *   RESULTS records of status `OK_WIRE`. `exportIn` replaces each by
 *   `{ $seedPort: id }` before a message is encoded; `importIn` puts a new
 *   port in its place once one is decoded. Ids are even on the parent's
 *   side and odd on the child's, so they never clash.
 * - **Deaths.** The library's peers learn of a thread's death through its
 *   lifeline (a Web Lock, see `_lifeline.ts`), which is per process. So a
 *   bridge holds, for as long as the other process lives, every lifeline
 *   name it sees cross: in the markers it exports, and in the messages it
 *   delivers from the other side (a pipe end's announcement). When the other
 *   process ends, `close()` releases them and closes the bridged ports, and
 *   the peers here see the death as they would a thread's.
 * - **Limits.** A message on a bridged port that carries a port itself (a
 *   channel passed on again from the child) cannot cross and is dropped;
 *   bridged ports are closed only when the process ends.
 *
 * Shared-memory objects (`SharedValue`, `SharedArray`, `SharedLock`,
 * `SharedEvent`) cannot be bridged: {@linkcode sharedTypeIn} finds them, so
 * the pool can refuse such a task with a clear error.
 *
 * @module
 */

import { holdLifeline, LIFELINE_PREFIX } from "./_lifeline.ts";
import {
  MODE_WIRE,
  OK_WIRE,
  RESULT_FIELDS,
  RESULTS,
  TASK_FIELDS,
  TASKS,
} from "./_protocol.ts";
import { getSlot, NO_SLOT } from "./_wire.ts";

/** [PORT, id, data]: a message on bridged port `id`, either way. */
export const PORT = 33;

/** The wire types that live on ports, which a bridge can carry. */
const PORT_TYPES: ReadonlySet<string> = new Set(["WorkerChannel", "PipeEnd"]);

interface Marker {
  $seedWire: string;
  data: unknown;
}

/** The wire markers of `values` at `paths` (checked, never throwing). */
function* markersOf(values: unknown, paths: unknown): Generator<Marker> {
  if (!Array.isArray(paths)) return;
  for (const path of paths) {
    if (!Array.isArray(path) || path.length === 0) continue;
    let at: unknown = values;
    for (const key of path) {
      at = getSlot(at, key);
      if (at === NO_SLOT) break;
    }
    if (
      typeof at === "object" && at !== null &&
      typeof (at as Marker).$seedWire === "string"
    ) yield at as Marker;
  }
}

/** The markers in a TASKS or RESULTS message. */
function* markersIn(message: unknown[]): Generator<Marker> {
  if (message[0] === TASKS) {
    for (let i = 2; i + TASK_FIELDS <= message.length; i += TASK_FIELDS) {
      if (((message[i + 3] as number) & MODE_WIRE) === 0) continue;
      const payload = message[i + 2];
      if (Array.isArray(payload)) yield* markersOf(payload[0], payload[1]);
    }
  } else if (message[0] === RESULTS) {
    for (let i = 1; i + RESULT_FIELDS <= message.length; i += RESULT_FIELDS) {
      const value = message[i + 2];
      if (message[i + 1] !== OK_WIRE || !Array.isArray(value)) continue;
      yield* markersOf([value[0]], value[1]);
    }
  }
}

/**
 * The first wire type in a task's payload that cannot cross to a process
 * (one that lives in shared memory), or `undefined`.
 */
export function sharedTypeIn(
  payload: unknown,
  mode: number,
): string | undefined {
  if ((mode & MODE_WIRE) === 0 || !Array.isArray(payload)) return undefined;
  for (const marker of markersOf(payload[0], payload[1])) {
    if (!PORT_TYPES.has(marker.$seedWire)) return marker.$seedWire;
  }
  return undefined;
}

function isPortRef(value: unknown): value is { $seedPort: number } {
  return typeof value === "object" && value !== null &&
    Number.isInteger((value as { $seedPort?: unknown }).$seedPort);
}

/** One side's bridges to the ports of the other process. */
export class PortBridge {
  readonly #send: (message: unknown[]) => void;
  readonly #ports = new Map<number, MessagePort>();
  readonly #held = new Set<string>();
  readonly #releases: (() => void)[] = [];
  #next: number;
  #closed = false;

  /**
   * @param send Sends a message to the other process now (throwing if it
   *   cannot be cloned).
   * @param side 0 for the parent, 1 for the child.
   */
  constructor(send: (message: unknown[]) => void, side: 0 | 1) {
    this.#send = send;
    this.#next = side;
  }

  /** Before `message` is sent: its ports stay here, bridged, as ids. */
  exportIn(message: unknown[]): void {
    for (const marker of markersIn(message)) {
      const data = marker.data as Record<string, unknown> | null;
      if (typeof data !== "object" || data === null) continue;
      if (typeof data.lock === "string") this.#hold(data.lock);
      if (!(data.port instanceof MessagePort)) continue;
      const id = this.#next;
      this.#next += 2;
      this.#bridge(id, data.port);
      marker.data = { ...data, port: { $seedPort: id } };
    }
  }

  /** After `message` was received: each port id becomes a bridged port. */
  importIn(message: unknown[]): void {
    for (const marker of markersIn(message)) {
      const data = marker.data as Record<string, unknown> | null;
      if (typeof data !== "object" || data === null) continue;
      if (!isPortRef(data.port)) continue;
      const { port1, port2 } = new MessageChannel();
      this.#bridge(data.port.$seedPort, port1);
      marker.data = { ...data, port: port2 };
    }
  }

  /** A message from the other process for bridged port `id`. */
  receive(id: unknown, data: unknown): void {
    const port = this.#ports.get(id as number);
    if (port === undefined) return;
    if (Array.isArray(data)) {
      // A lifeline the other side announces: held here while it lives.
      for (const item of data) {
        if (typeof item === "string" && item.startsWith(LIFELINE_PREFIX)) {
          this.#hold(item);
        }
      }
    }
    port.postMessage(data);
  }

  /** The other process ended: its lifelines end, its ports close. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const port of this.#ports.values()) {
      port.onmessage = null;
      port.close();
    }
    this.#ports.clear();
    for (const release of this.#releases.splice(0)) release();
  }

  #bridge(id: number, port: MessagePort): void {
    if (this.#closed) return port.close();
    this.#ports.set(id, port);
    port.onmessage = (event) => {
      try {
        this.#send([PORT, id, event.data]);
      } catch {
        // It carries a port (a channel passed on again): it cannot cross.
      }
    };
  }

  #hold(name: string): void {
    if (this.#closed || this.#held.has(name)) return;
    this.#held.add(name);
    // Requested now, so it is held before any peer here starts to watch.
    void holdLifeline(name).then((release) => {
      if (this.#closed) release();
      else this.#releases.push(release);
    });
  }
}
