// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: a pool worker that is a child `deno` process (`isolation:
 * "process"`), on the transport of `_proc_spawn.ts`. Its tasks travel in
 * the same TASKS messages as a thread's, encoded at once (a task that cannot
 * be cloned fails at dispatch, as with `postMessage`).
 *
 * **Who knows what.** A process shares no memory with the pool, so the
 * child owns the truth about its tasks and the parent keeps a mirror
 * ({@linkcode Mirror}) that is never ahead of it:
 * - the child claims tasks (CLAIM, through a seq) and waits until the claim
 *   is written out before any of them starts; results mark tasks DONE;
 * - so at any moment every task past `claimedThrough` has surely not
 *   started, and once the child has ended and its channel is read to the
 *   end, the claims are final: at a death, tasks past it run elsewhere, and
 *   the others fail with `WorkerCrashedError`;
 * - the parent cannot take back a task from a live child (a revoke fails):
 *   a cancelled task is answered by the child, which skips it if it had not
 *   started (ABORT) or aborts its signal if it runs. The grace timer starts
 *   only once the task is claimed, so a task waiting behind a long one is
 *   never the reason its worker is killed. Work is not stolen from process
 *   workers (a steal needs a take-back).
 *
 * **Channels.** `WorkerChannel`s and pipe ends in arguments and results
 * cross through a `PortBridge` (`_proc_ports.ts`), closed when the child
 * ends.
 *
 * **Stopping.** A worker that holds nothing ends its channel and exits by
 * itself (killed if it has not within `EXIT_GRACE_MS`). One that holds tasks
 * is killed (SIGKILL, which ends even a synchronous loop, so a process
 * worker is never abandoned), and `stop()` defers the judgement of its tasks
 * until its channel is read to the end: its death then comes back through
 * `onDeath`.
 *
 * @module
 */

import {
  DONE,
  REVOKED,
  SENT,
  SLOTS,
  type SlotState,
  STARTED,
  word,
} from "./_control.ts";
import { encodeFrame } from "./_proc_frame.ts";
import { PORT, PortBridge } from "./_proc_ports.ts";
import { type ProcessExit, ProcessWorker } from "./_proc_spawn.ts";
import { CLAIM, STARTED as STARTED_THROUGH } from "./_proc_protocol.ts";
import { OK_WIRE, READY, RESULT_FIELDS, RESULTS } from "./_protocol.ts";
import {
  type Stopped,
  type WorkerControl,
  WorkerHandle,
  type WorkerHost,
  type WorkerSpec,
} from "./_worker_handle.ts";

/** How long a child that holds nothing may take to exit when told, in ms. */
const EXIT_GRACE_MS = 2000;

/** The parent's record of a child's tasks, from what the child said. */
export class Mirror implements WorkerControl {
  readonly #words = new Int32Array(SLOTS);
  /** Every task through this seq may have started; none after it has. */
  claimedThrough = -1;
  /** Whether the child has ended and all it said was read. */
  final = false;
  /**
   * Whether the claims are exact: the child said, dying, the last task it
   * started. Otherwise a claimed task may not have started.
   */
  exact = false;

  state(seq: number): SlotState | undefined {
    const w = this.#words[seq % SLOTS] as number;
    return word(seq, (w & 7) as SlotState) === w
      ? (w & 7) as SlotState
      : undefined;
  }

  send(seq: number): void {
    this.#words[seq % SLOTS] = word(seq, SENT);
  }

  /** The child claimed the tasks from the last claim through `through`. */
  claim(through: number): void {
    for (let seq = this.claimedThrough + 1; seq <= through; seq++) {
      if (this.state(seq) === SENT) {
        this.#words[seq % SLOTS] = word(seq, STARTED);
      }
    }
    if (through > this.claimedThrough) this.claimedThrough = through;
  }

  /**
   * The child, dying, said that no task after `through` started: claims
   * after it are undone, so those tasks may run elsewhere.
   */
  unclaimAfter(through: number): void {
    if (this.final) return;
    this.exact = true;
    for (let seq = this.claimedThrough; seq > through; seq--) {
      if (this.state(seq) === STARTED) {
        this.#words[seq % SLOTS] = word(seq, SENT);
      }
    }
    if (through < this.claimedThrough) this.claimedThrough = through;
  }

  /** The child answered task `seq`. */
  done(seq: number): void {
    this.#words[seq % SLOTS] = word(seq, DONE);
  }

  /** Only once the child has ended, and only a task it never claimed. */
  revoke(seq: number): boolean {
    if (!this.final || seq <= this.claimedThrough) return false;
    if (this.state(seq) !== SENT) return false;
    this.#words[seq % SLOTS] = word(seq, REVOKED);
    return true;
  }

  /** Whether to tell the child (it has not answered the task yet). */
  cancel(seq: number): boolean {
    const state = this.state(seq);
    return state !== undefined && state !== DONE && state !== REVOKED;
  }

  takeResults(): number {
    return 0;
  }

  waiting(): number {
    return 0;
  }
}

export class ProcessWorkerHandle extends WorkerHandle {
  readonly control: Mirror = new Mirror();
  readonly fastPath = false;
  override readonly stealable = false;

  /** Claimed tasks started, unless it died without last words. */
  override get startsKnown(): boolean {
    return this.control.exact;
  }
  readonly lifeline = "";
  readonly #process: ProcessWorker;
  /** Whether it has exited and its channel has been read to the end. */
  #ended = false;
  #graceMs = 0;
  /** A cancelled task whose grace ran out before the child claimed it. */
  #graceOnClaim: { seq: number; onExpired: () => void } | undefined = undefined;
  #exitTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Channels and pipe ends passed to or from the child. */
  readonly #ports: PortBridge;

  /** @throws {unknown} What `spawn` throws (no `--allow-run`, say). */
  constructor(id: number, spec: WorkerSpec, host: WorkerHost) {
    super(id, host);
    this.#ports = new PortBridge((message) => {
      this.#process.sendNow(message);
    }, 0);
    this.#process = new ProcessWorker({
      moduleUrl: spec.moduleUrl,
      permissions: spec.permissions,
      maxMemoryMb: spec.maxMemoryMb,
    }, { onMessage: (_, message) => this.#receive(message) });
    // A failure to start is seen at its exit, with what it reported.
    this.#process.ready.then(
      () => {
        if (this.state === "starting") host.onMessage(this, [READY]);
      },
      () => {},
    );
    void this.#process.exited.then((exit) => this.#exited(exit));
  }

  /** Its process id. */
  get pid(): number {
    return this.#process.pid;
  }

  #receive(message: unknown[]): void {
    if (message[0] === PORT) return this.#ports.receive(message[1], message[2]);
    if (!this.inService) return;
    if (message[0] === CLAIM) {
      const through = message[1] as number;
      if (through >= this.nextSeq) {
        this.#process.kill();
        this.control.claim(this.nextSeq - 1);
        return this.host.onDeath(
          this,
          new Error(
            `The worker process broke the protocol: it claimed task ${through}, which it was not sent`,
          ),
        );
      }
      this.control.claim(through);
      const waiting = this.#graceOnClaim;
      if (waiting !== undefined && through >= waiting.seq) {
        this.#graceOnClaim = undefined;
        this.armGrace(waiting.seq, this.#graceMs, waiting.onExpired);
      }
      return;
    }
    if (message[0] === STARTED_THROUGH) {
      // Its last words: nothing after this seq started, nor will.
      return this.control.unclaimAfter(message[1] as number);
    }
    if (message[0] === RESULTS) {
      let wire = false;
      for (let i = 1; i < message.length; i += RESULT_FIELDS) {
        const seq = message[i] as number;
        if (this.at(seq) !== undefined) this.control.done(seq);
        if (message[i + 1] === OK_WIRE) wire = true;
      }
      // Channels and pipe ends travel only in encoded (wire) results.
      if (wire) this.#ports.importIn(message);
    }
    this.host.onMessage(this, message);
  }

  #exited(exit: ProcessExit): void {
    this.#ended = true;
    // A broken channel hides its last claims: any task sent may have run.
    if (exit.broken) this.control.claim(this.nextSeq - 1);
    this.control.final = true;
    this.#ports.close();
    if (this.#exitTimer !== undefined) clearTimeout(this.#exitTimer);
    this.endedHow = exit.signal !== null
      ? `its process was killed by ${exit.signal}`
      : `its process exited with code ${exit.code}`;
    if (this.inService) {
      // What the child reported (an uncaught error, say) is the cause; the
      // exit itself explains the rest (out of memory, a kill, an exit code).
      const reported = exit.outOfMemory ? undefined : exit.cause.cause;
      this.host.onDeath(this, reported ?? exit.cause);
    }
    this.state = "exited";
    this.host.onExit(this);
  }

  override abortRunning(
    seq: number,
    reason: unknown,
    graceMs: number,
    onExpired: () => void,
  ): void {
    this.#graceMs = graceMs;
    super.abortRunning(seq, reason, graceMs, onExpired);
  }

  protected override graceExpired(seq: number, onExpired: () => void): void {
    // Not started: it waits behind another task, and the child skips it
    // when it gets there. Its grace starts once it is claimed.
    if (seq > this.control.claimedThrough && !this.#ended) {
      this.#graceOnClaim = { seq, onExpired };
      return;
    }
    onExpired();
  }

  protected override clearGrace(): void {
    super.clearGrace();
    this.#graceOnClaim = undefined;
  }

  stop(): Stopped | undefined {
    if (!this.inService) return { unstarted: [], started: [] };
    if (!this.#ended && this.heldCount > 0) {
      // Its claims are final only once all it said is read.
      this.state = "dying";
      this.#process.kill();
      return undefined;
    }
    const stopped = this.takeAll((seq) => this.control.revoke(seq));
    if (!this.#ended) {
      if (this.state === "starting") this.#process.kill();
      else {
        this.#process.close();
        this.#exitTimer = setTimeout(
          () => this.#process.kill(),
          EXIT_GRACE_MS,
        );
      }
    }
    this.state = "stopping";
    return stopped;
  }

  override readonly cloneRule =
    "; nor shared memory: a process worker shares none";

  override checkClone(value: unknown): void {
    encodeFrame([value]);
  }

  watch(): void {}

  unwatch(): void {}

  sendFast(): void {
    throw new Error("A process worker has no fast path");
  }

  /**
   * Sends `message` with the others of this tick. A process gets a copy of
   * everything; the `ArrayBuffer`s in `transfer` are then detached here, so
   * a transfer means the same as with threads.
   *
   * @throws {unknown} If `message` cannot be cloned (nothing is sent).
   */
  post(message: unknown, transfer: Transferable[] | undefined): void {
    if (transfer === undefined) return void this.#process.sendNow(message);
    if (transfer.some((item) => item instanceof MessagePort)) {
      this.#ports.exportIn(message as unknown[]);
    }
    this.#process.sendNow(message);
    for (const item of transfer) {
      if (item instanceof ArrayBuffer && !item.detached) {
        try {
          item.transfer();
        } catch {
          // Not detachable (a WebAssembly memory, say): it stays usable.
        }
      }
    }
  }
}
