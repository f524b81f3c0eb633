// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal, for tests: imported first by a `*_process_test.ts` file, it makes
 * the shared suite it imports next run with process workers.
 *
 * @module
 */

import { setTestIsolation } from "./_test_pool.ts";

setTestIsolation("process");
