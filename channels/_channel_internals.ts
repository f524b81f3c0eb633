// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: the access `select` needs to a channel's wait queues, which the
 * `Channel` class keeps in private fields. `Channel` registers these
 * functions from a static block when its module loads, so the queues stay
 * out of its public type.
 *
 * @module
 */

import type { Channel } from "./channel.ts";
import type { ReceiveWaiter, SendWaiter } from "./_waiters.ts";

/** Functions that reach into a channel's private state. */
export interface ChannelInternals {
  /**
   * Puts `waiter` at the back of the channel's receive queue. Only valid
   * when a receive would have to wait (nothing buffered, no waiting sender,
   * channel open).
   */
  addReceiver<T>(channel: Channel<T>, waiter: ReceiveWaiter<T>): void;
  /**
   * Puts `waiter` at the back of the channel's send queue. Only valid when a
   * send would have to wait (no waiting receiver, buffer full, channel open).
   */
  addSender<T>(channel: Channel<T>, waiter: SendWaiter<T>): void;
}

let registered: ChannelInternals | undefined;

/** Called once by `Channel`'s static block. */
export function registerChannelInternals(internals: ChannelInternals): void {
  registered = internals;
}

/** The functions `Channel` registered. */
export function channelInternals(): ChannelInternals {
  if (registered === undefined) {
    throw new Error("Cannot reach channel internals as Channel is not loaded");
  }
  return registered;
}
