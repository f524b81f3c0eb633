// Copyright the @seed/concurrency authors. MIT license.
// Seals the worker's permissions when imported: a worker entry imports this
// module before the task module, so it runs before any task code.
import { sealPermissions } from "../../_sandbox.ts";

sealPermissions();
