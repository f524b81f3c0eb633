// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: the access `select` needs to a channel's wait queues, which the
 * `Channel` class keeps in private fields. `Channel` registers these from
 * its static block; see `../_internals.ts` for the pattern.
 *
 * @module
 */

import type { Channel } from "./channel.ts";
import type { ReceiveWaiter, SendWaiter } from "./_waiters.ts";
import { Internals } from "../_internals.ts";

/** What `Channel` registers. */
export interface ChannelInternals {
  /** See {@linkcode addReceiver}. */
  addReceiver<T>(channel: Channel<T>, waiter: ReceiveWaiter<T>): void;
  /** See {@linkcode addSender}. */
  addSender<T>(channel: Channel<T>, waiter: SendWaiter<T>): void;
}

const internals = new Internals<ChannelInternals>("Channel");

/** Called once, by `Channel`'s static block. */
export function registerChannelInternals(impl: ChannelInternals): void {
  internals.register(impl);
}

/**
 * Puts `waiter` at the back of the channel's receive queue. Only valid when
 * a receive would have to wait (nothing buffered, no waiting sender, channel
 * open).
 */
export function addReceiver<T>(
  channel: Channel<T>,
  waiter: ReceiveWaiter<T>,
): void {
  internals.get().addReceiver(channel, waiter);
}

/**
 * Puts `waiter` at the back of the channel's send queue. Only valid when a
 * send would have to wait (no waiting receiver, buffer full, channel open).
 */
export function addSender<T>(channel: Channel<T>, waiter: SendWaiter<T>): void {
  internals.get().addSender(channel, waiter);
}
