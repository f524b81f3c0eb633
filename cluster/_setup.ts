// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the JetStream resources of a queue, created on first use by
 * whichever side comes first, and the connection both sides open.
 *
 * For a queue `Q`:
 *
 * | resource                  | kind                                   | holds                        |
 * | ------------------------- | -------------------------------------- | ---------------------------- |
 * | stream `SEED_Q_TASKS`     | work queue, file storage               | task messages, subject `seed.Q.tasks` |
 * | consumer `workers`        | durable pull, explicit ack, shared     | who holds which task; `ack_wait` is the heartbeat deadline |
 * | stream `SEED_Q_RESULTS`   | work queue, file storage, 1 day max age | result messages, subject `seed.Q.results.<caller>` |
 * | consumer `caller_<id>`    | durable pull, one per `ClusterPool`    | that caller's results        |
 * | KV bucket `seed_Q_cancel` | file storage, 1 hour max age            | one key `<caller>.<id>` per cancelled call |
 *
 * Work-queue streams delete a message once it is acknowledged, so a queue
 * at rest holds nothing. File storage keeps tasks, results and consumers
 * across a server restart.
 *
 * @module
 */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { describe } from "../errors/_describe.ts";

/** The names of one queue's resources. */
export interface QueueNames {
  queue: string;
  taskStream: string;
  taskSubject: string;
  resultStream: string;
  resultPrefix: string;
  workers: string;
  cancelBucket: string;
}

/**
 * Checks a queue name: letters, digits, `-` and `_`, as stream names allow.
 *
 * @throws {TypeError} If it is not a string.
 * @throws {RangeError} If it has other characters or is too long.
 */
export function queueNames(queue: unknown, what: string): QueueNames {
  if (typeof queue !== "string") {
    throw new TypeError(
      `Cannot ${what} as 'queue' must be a string: received ${describe(queue)}`,
    );
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(queue)) {
    throw new RangeError(
      `Cannot ${what} as 'queue' must be 1 to 64 letters, digits, '-' or '_': received ${
        describe(queue)
      }`,
    );
  }
  return {
    queue,
    taskStream: `SEED_${queue}_TASKS`,
    taskSubject: `seed.${queue}.tasks`,
    resultStream: `SEED_${queue}_RESULTS`,
    resultPrefix: `seed.${queue}.results`,
    workers: "workers",
    cancelBucket: `seed_${queue}_cancel`,
  };
}

/**
 * Checks the `servers` option: a URL string or a non-empty array of them.
 *
 * @throws {TypeError} If it is not.
 */
export function serverList(servers: unknown, what: string): string[] {
  const list = typeof servers === "string" ? [servers] : servers;
  if (
    !Array.isArray(list) || list.length === 0 ||
    !list.every((s) => typeof s === "string" && s.length > 0)
  ) {
    throw new TypeError(
      `Cannot ${what} as 'servers' must be a server URL or a non-empty array of them: received ${
        describe(servers)
      }`,
    );
  }
  return list;
}

/**
 * Connects for good: the first connection must succeed (so a wrong address
 * fails at once), then the client reconnects for ever, buffering what it
 * publishes meanwhile.
 */
export function open(servers: string[], name: string): Promise<NatsConnection> {
  return connect({
    servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    noAsyncTraces: true,
  });
}

/** Whether a JetStream API error says the resource exists already. */
function alreadyExists(error: unknown): boolean {
  const code = (error as { api_error?: { err_code?: number } }).api_error
    ?.err_code;
  // 10058: stream name in use with another config; 10148: consumer exists.
  return code === 10058 || code === 10148;
}

/** Creates the task and result streams, unless they exist. */
export async function ensureStreams(
  jsm: JetStreamManager,
  names: QueueNames,
): Promise<void> {
  const streams = [
    {
      name: names.taskStream,
      subjects: [names.taskSubject],
      max_age: 0,
    },
    {
      name: names.resultStream,
      subjects: [`${names.resultPrefix}.*`],
      max_age: 24 * 3600 * 1e9,
    },
  ];
  for (const stream of streams) {
    try {
      await jsm.streams.add({
        ...stream,
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        duplicate_window: 120 * 1e9,
      });
    } catch (error) {
      if (!alreadyExists(error)) throw error;
    }
  }
}

/**
 * Creates the workers' shared consumer, or sets its `ack_wait` when it
 * exists with another: the last worker to start decides the heartbeat
 * deadline for all.
 */
export async function ensureWorkersConsumer(
  jsm: JetStreamManager,
  names: QueueNames,
  ackWaitMs: number,
): Promise<void> {
  const config = {
    durable_name: names.workers,
    ack_policy: AckPolicy.Explicit,
    ack_wait: ackWaitMs * 1e6,
    max_deliver: -1,
    max_ack_pending: -1,
  };
  try {
    await jsm.consumers.add(names.taskStream, config);
  } catch (error) {
    if (!alreadyExists(error)) throw error;
    await jsm.consumers.update(names.taskStream, names.workers, {
      ack_wait: config.ack_wait,
    });
  }
}

/** Opens (creating if need be) the queue's bucket of cancelled calls. */
export function cancelBucket(
  nc: NatsConnection,
  names: QueueNames,
): Promise<KV> {
  return new Kvm(nc).create(names.cancelBucket, {
    history: 1,
    ttl: 3600 * 1000,
    storage: StorageType.File,
  });
}

/** The key of a call in the cancel bucket. */
export function cancelKey(caller: string, id: number): string {
  return `${caller}.${id}`;
}
