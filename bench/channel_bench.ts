// Copyright the @seed/concurrency authors. MIT license.
// Channel beside a naive promise-based bounded queue, on the same machine in
// the same run. Read the results as ratios within the group.
//
//   deno bench -A bench/channel_bench.ts
//
// One producer sends 1,000,000 numbers, one consumer receives them; every
// entry checks the sum it received, so a queue that drops or repeats values
// throws instead of reporting a fast time.
import { Channel } from "../channels/channel.ts";

const COUNT = 1_000_000;
const CAPACITY = 64;
const EXPECTED_SUM = (COUNT * (COUNT - 1)) / 2;
const GROUP = "Channel 1 producer -> 1 consumer (1,000,000 numbers)";
// Each iteration passes a million values (~0.1 s or more): a few suffice.
const HINTS = { n: 10, warmup: 3 } as const;

/**
 * The baseline: a bounded FIFO queue as one would first write it. An array
 * buffer with `push`/`shift`, plus arrays of resolvers for blocked senders
 * and receivers. No close, no cancellation.
 */
class NaiveQueue<T> {
  readonly #capacity: number;
  readonly #buffer: T[] = [];
  readonly #senders: { value: T; resolve: () => void }[] = [];
  readonly #receivers: ((value: T) => void)[] = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  send(value: T): Promise<void> {
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver(value);
      return Promise.resolve();
    }
    if (this.#buffer.length < this.#capacity) {
      this.#buffer.push(value);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#senders.push({ value, resolve }));
  }

  receive(): Promise<T> {
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift()!;
      const sender = this.#senders.shift();
      if (sender !== undefined) {
        this.#buffer.push(sender.value);
        sender.resolve();
      }
      return Promise.resolve(value);
    }
    const sender = this.#senders.shift();
    if (sender !== undefined) {
      sender.resolve();
      return Promise.resolve(sender.value);
    }
    return new Promise((resolve) => this.#receivers.push(resolve));
  }
}

interface Queue {
  send(value: number): Promise<void>;
  receive(): Promise<number>;
}

async function produce(queue: Queue): Promise<void> {
  for (let i = 0; i < COUNT; i++) await queue.send(i);
}

async function consume(queue: Queue): Promise<number> {
  let sum = 0;
  for (let i = 0; i < COUNT; i++) sum += await queue.receive();
  return sum;
}

function check(sum: number): void {
  if (sum !== EXPECTED_SUM) {
    throw new Error(
      `Queue lost or repeated values: sum is ${sum}, expected ${EXPECTED_SUM}`,
    );
  }
}

Deno.bench({
  name: "naive queue: send() / receive(), capacity 64",
  group: GROUP,
  baseline: true,
  ...HINTS,
  async fn() {
    const queue = new NaiveQueue<number>(CAPACITY);
    const [, sum] = await Promise.all([produce(queue), consume(queue)]);
    check(sum);
  },
});

Deno.bench({
  name: "Channel: send() / receive(), capacity 64",
  group: GROUP,
  ...HINTS,
  async fn() {
    const channel = new Channel<number>(CAPACITY);
    const [, sum] = await Promise.all([produce(channel), consume(channel)]);
    check(sum);
  },
});

Deno.bench({
  name: "Channel: send() / for await, capacity 64",
  group: GROUP,
  ...HINTS,
  async fn() {
    const channel = new Channel<number>(CAPACITY);
    const producer = async () => {
      await produce(channel);
      channel.close();
    };
    const consumer = async () => {
      let sum = 0;
      for await (const value of channel) sum += value;
      return sum;
    };
    const [, sum] = await Promise.all([producer(), consumer()]);
    check(sum);
  },
});

Deno.bench({
  name: "Channel: send() / receive(), capacity 0 (rendezvous, for information)",
  group: GROUP,
  ...HINTS,
  async fn() {
    const channel = new Channel<number>(0);
    const [, sum] = await Promise.all([produce(channel), consume(channel)]);
    check(sum);
  },
});
