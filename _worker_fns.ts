// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the functions a pool worker runs, by id: exports of the task
 * module (by name) and inline functions (compiled from their source). A
 * definition that fails (an unknown name, source that does not compile) is
 * kept as its error, which every task of that function then throws.
 *
 * @module
 */

import { FN_SOURCE } from "./_protocol.ts";

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

const evaluate = eval;

function compile(source: string): AnyFunction {
  let value: unknown;
  try {
    value = evaluate(`(${source}\n)`);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // Method shorthand, such as `square(x) { return x * x; }`.
    const holder = evaluate(`({${source}\n})`) as Record<string, unknown>;
    value = Object.values(holder)[0];
  }
  if (typeof value !== "function") {
    throw new TypeError(
      "Cannot run the inline task as its source does not evaluate to a function",
    );
  }
  return value as AnyFunction;
}

export class FnRegistry {
  readonly #fns = new Map<number, AnyFunction | Error>();
  readonly #labels = new Map<number, string>();
  readonly #inline = new Set<number>();
  #module: Record<string, unknown> | null = null;
  #moduleUrl = "";

  /** Sets the task module whose exports named tasks refer to. */
  setModule(module: Record<string, unknown>, url: string): void {
    this.#module = module;
    this.#moduleUrl = url;
  }

  /**
   * Defines the functions of a TASKS message (`_protocol.ts`): a flat list
   * of (fnId, kind, text), or `null` for none.
   */
  defineAll(defs: unknown[] | null): void {
    if (defs === null) return;
    for (let i = 0; i < defs.length; i += 3) {
      this.define(
        defs[i] as number,
        defs[i + 1] as number,
        defs[i + 2] as string,
      );
    }
  }

  /** Defines function `fnId`: a task name, or inline source. */
  define(fnId: number, kind: number, text: string): void {
    if (kind === FN_SOURCE) {
      this.#inline.add(fnId);
      try {
        const fn = compile(text);
        this.#fns.set(fnId, fn);
        this.#labels.set(
          fnId,
          fn.name ? `inline function "${fn.name}"` : "inline function",
        );
      } catch (error) {
        this.#fns.set(fnId, error as Error);
        this.#labels.set(fnId, "inline function");
      }
      return;
    }
    this.#labels.set(fnId, `task "${text}"`);
    const tasks = this.#module ?? {};
    const value = Object.hasOwn(tasks, text) ? tasks[text] : undefined;
    if (typeof value === "function") {
      this.#fns.set(fnId, value as AnyFunction);
      return;
    }
    const names = Object.keys(tasks).filter((name) =>
      typeof tasks[name] === "function"
    );
    this.#fns.set(
      fnId,
      new TypeError(
        `Cannot run task "${text}" as the task module ${this.#moduleUrl} ${
          value === undefined
            ? "does not export it"
            : "exports it, but not as a function"
        }: its tasks are ${names.length ? names.join(", ") : "(none)"}`,
      ),
    );
  }

  /**
   * The function `fnId`.
   *
   * @throws {Error} Why it could not be defined.
   */
  get(fnId: number): AnyFunction {
    const fn = this.#fns.get(fnId);
    if (fn === undefined) {
      throw new Error(`Internal error: function ${fnId} was not defined`);
    }
    if (fn instanceof Error) throw fn;
    return fn;
  }

  label(fnId: number): string {
    return this.#labels.get(fnId) ?? "the task";
  }

  /**
   * Makes a task's error say more where it can: an inline function that
   * uses a variable from the scope it was written in fails with V8's
   * "x is not defined", which a user reads as a bug in their function; the
   * error then names the variable and says why. (The name can only be read
   * from V8's message.)
   */
  explain(error: unknown, fnId: number): unknown {
    try {
      return this.#explain(error, fnId);
    } catch {
      return error; // A revoked Proxy, say: serializeError copes with it.
    }
  }

  #explain(error: unknown, fnId: number): unknown {
    if (this.#inline.has(fnId) && error instanceof ReferenceError) {
      const match = /^(\S+) is not defined$/.exec(error.message);
      if (match !== null && !((match[1] as string) in globalThis)) {
        return new ReferenceError(
          `The ${this.label(fnId)} uses "${
            match[1]
          }" from an enclosing scope, which a worker cannot see: pass it as an argument or move the function into a task module`,
          { cause: error },
        );
      }
    }
    return error;
  }
}
