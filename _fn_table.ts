// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the functions a pool runs, each defined once and named by a
 * small integer id in task records. A function is a task module's export
 * (by name) or an inline function (by source); each worker is sent a
 * function's definition once, with the first task that needs it.
 *
 * @module
 */

import { FN_NAME, FN_SOURCE } from "./_protocol.ts";
import { describe } from "./errors/_describe.ts";

export class FnTable {
  readonly #kinds: number[] = [];
  readonly #texts: string[] = [];
  readonly #labels: string[] = [];
  /** Each function's recent time per item (ms), or 0 before it ran. */
  readonly #perItemMs: number[] = [];
  readonly #byKey = new Map<string, number>();
  readonly #inline = new WeakMap<object, number>();
  readonly #hasModule: boolean;

  constructor(hasModule: boolean) {
    this.#hasModule = hasModule;
  }

  /**
   * The id of a task name or inline function, defining it on first use.
   *
   * @throws {TypeError} If `task` is neither, is a name on a pool without a
   *   task module, or is a function whose source cannot be sent.
   */
  idOf(task: unknown): number {
    if (typeof task === "string") {
      if (!this.#hasModule) {
        throw new TypeError(
          `Cannot run task "${task}" as the pool has no task module: pass a function, or create the pool with the URL of a module that exports "${task}"`,
        );
      }
      return this.#define(FN_NAME, task, labelOf(task));
    }
    if (typeof task !== "function") {
      throw new TypeError(
        `Cannot run the task as it must be a task name or a function: received ${
          describe(task)
        }`,
      );
    }
    const known = this.#inline.get(task);
    if (known !== undefined) return known;
    const source = Function.prototype.toString.call(task);
    if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
      throw new TypeError(
        `Cannot run ${
          labelOf(task)
        } in a worker as it is native or bound, so its source cannot be sent: pass a plain function, or move it into a task module`,
      );
    }
    if (/^class\b/.test(source)) {
      throw new TypeError(
        `Cannot run ${labelOf(task)} as it is a class: pass a function`,
      );
    }
    const id = this.#define(FN_SOURCE, source, labelOf(task));
    this.#inline.set(task, id);
    return id;
  }

  #define(kind: number, text: string, label: string): number {
    const key = kind + ":" + text;
    let id = this.#byKey.get(key);
    if (id === undefined) {
      id = this.#kinds.length;
      this.#kinds.push(kind);
      this.#texts.push(text);
      this.#labels.push(label);
      this.#byKey.set(key, id);
    }
    return id;
  }

  /**
   * Learns from a run of `items` items of function `id` in `ms`. A faster
   * run is believed at once and a slower one only slowly, so that a first
   * run slowed by compilation (or a pause) does not make later maps cut
   * cheap items into needlessly many chunks.
   */
  recordRun(id: number, ms: number, items: number): void {
    const perItem = ms / Math.max(1, items);
    const known = this.#perItemMs[id] ?? 0;
    this.#perItemMs[id] = known === 0 || perItem < known
      ? perItem
      : known * 0.75 + perItem * 0.25;
  }

  /** Function `id`'s recent time per item in ms, or 0 if it never ran. */
  perItemMs(id: number): number {
    return this.#perItemMs[id] ?? 0;
  }

  /** How error messages name function `id`. */
  label(id: number): string {
    return this.#labels[id] ?? "the task";
  }

  /** Appends the definition of function `id` to `defs` (a TASKS message's). */
  appendDefinition(defs: unknown[], id: number): void {
    defs.push(id, this.#kinds[id], this.#texts[id]);
  }
}

/** How error messages name a task given as a name or a function. */
export function labelOf(task: unknown): string {
  if (typeof task === "string") return `task "${task}"`;
  if (typeof task === "function") {
    return task.name ? `inline function "${task.name}"` : "an inline function";
  }
  return "the task";
}
