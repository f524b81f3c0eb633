// Copyright the @seed/concurrency authors. MIT license.
// A task module whose load waits until the Web Lock `GATE` is free: a test
// holds the lock to keep the pool's workers starting for as long as it likes
// (Web Locks are shared by every thread of the process).
export const GATE = "@seed/concurrency test gate";

const locks = (navigator as unknown as {
  locks: { request(name: string, callback: () => void): Promise<void> };
}).locks;
await locks.request(GATE, () => {});

/** The square of `x`. */
export function square(x: number): number {
  return x * x;
}

/** The length of `buffer`. */
export function byteLength(buffer: ArrayBuffer): number {
  return buffer.byteLength;
}
