// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the bootstrap of a sandboxed pool worker (one whose pool has
 * `permissions`). The worker's entry imports this module first, then the
 * task module, so the sandbox is sealed before any task code runs.
 *
 * @module
 */

import { sealPermissions } from "./_sandbox.ts";
export { startWorker } from "./_worker.ts";

sealPermissions();
