// A task module for errors/serialize_error_workers_test.ts that throws the
// classes of error_classes.ts without registering them in the worker.
import type { WorkerChannel } from "../channels/worker_channel.ts";
import { NamedQuotaError, UnnamedRetryError } from "./error_classes.ts";

export function throwQuota(limit: number): never {
  throw new NamedQuotaError(limit);
}

export function throwRetry(): never {
  throw new UnnamedRetryError("Try later");
}

/**
 * Waits for `channel` to close and describes the close reason as it arrived
 * in this worker: whether it is a `NamedQuotaError`, its name and its limit.
 */
export async function closeReason(
  channel: WorkerChannel<number>,
): Promise<[boolean, string, number]> {
  try {
    await channel.receive();
  } catch (error) {
    const cause = (error as Error).cause as NamedQuotaError;
    return [cause instanceof NamedQuotaError, cause.name, cause.limit];
  }
  throw new Error("The channel was expected to close without a value");
}
