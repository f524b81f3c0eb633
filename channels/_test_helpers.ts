// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal test helpers for `channels/` (not published: `_test_*.ts`).
 *
 * @module
 */

/**
 * Resolves once every microtask queued so far, and every microtask those
 * queue, has run: a zero-delay timer fires only after the microtask queue is
 * empty. Used to check that something has *not* happened (a promise still
 * pending), never to wait for something to happen.
 */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The state of a promise. */
export type PromiseState = "pending" | "fulfilled" | "rejected";

/**
 * Returns the state of `promise` once the microtask queue has drained.
 * Handles a rejection, so a rejected promise is not reported as unhandled.
 */
export async function stateOf(
  promise: Promise<unknown>,
): Promise<PromiseState> {
  let state: PromiseState = "pending";
  promise.then(
    () => (state = "fulfilled"),
    () => (state = "rejected"),
  );
  await drainMicrotasks();
  return state;
}

/**
 * Wraps `controller.signal` so the test can see which abort listeners are
 * registered: `listeners` holds every listener added and not yet removed or
 * fired (they are added `{ once: true }`).
 */
export function trackedSignal(controller: AbortController): {
  signal: AbortSignal;
  listeners: Set<EventListenerOrEventListenerObject>;
} {
  const signal = controller.signal;
  const listeners = new Set<EventListenerOrEventListenerObject>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ) => {
    if (type === "abort") {
      if (typeof options !== "object" || options.once !== true) {
        throw new Error("Abort listeners must be added with { once: true }");
      }
      listeners.add(listener);
    }
    add(type, listener, options);
  };
  signal.removeEventListener = (
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ) => {
    if (type === "abort") listeners.delete(listener);
    remove(type, listener, options);
  };
  // A `{ once: true }` listener is dropped when it fires.
  add("abort", () => listeners.clear());
  return { signal, listeners };
}
