// Error classes for errors/serialize_error_workers_test.ts. This module does
// not register them: each test decides which thread does.

/** A class that sets its own name, as the README recommends. */
export class NamedQuotaError extends Error {
  override name = "NamedQuotaError";
  limit: number;
  constructor(limit: number) {
    super(`Over the quota of ${limit}`);
    this.limit = limit;
  }
}

/** A class that forgot `override name`: its instances are named "Error". */
export class UnnamedRetryError extends Error {
  retryAfterMs = 500;
}
