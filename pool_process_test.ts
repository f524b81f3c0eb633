// Copyright the @seed/concurrency authors. MIT license.
// The shared pool suite, run with process workers (`isolation: "process"`).
import "./_test_process_mode.ts";
import "./pool_test.ts";
import "./pool_map_test.ts";
import "./pool_warm_test.ts";
import "./pool_results_test.ts";
