// The tasks of error_tasks.ts, with the classes registered in the worker too.
import { registerErrorClass } from "../errors/serialize_error.ts";
import { NamedQuotaError, UnnamedRetryError } from "./error_classes.ts";

registerErrorClass(NamedQuotaError);
registerErrorClass(UnnamedRetryError);

export { closeReason, throwQuota, throwRetry } from "./error_tasks.ts";
