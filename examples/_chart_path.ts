// Copyright the @seed/concurrency authors. MIT license.
// Internal to the examples: where cell12 writes its pool-size chart.

/** The flag that makes cell12 rewrite the README's chart. */
export const UPDATE_DOCS_FLAG = "--update-docs";
/** The environment variable that does the same, through `deno task demo`. */
export const UPDATE_DOCS_ENV = "SEED_UPDATE_DOCS";

/** The chart the README shows, tracked by git. */
export const DOCS_CHART: URL = new URL(
  "../docs/pool_sizes.svg",
  import.meta.url,
);
/** Where a plain run writes its chart: `.tmp/` is git-ignored. */
export const SCRATCH_CHART: URL = new URL(
  "../.tmp/pool_sizes.svg",
  import.meta.url,
);

/**
 * Where cell12 writes its chart: the untracked {@linkcode SCRATCH_CHART}, so
 * that `deno task demo` leaves a clone clean, unless it was asked to rewrite
 * the README's {@linkcode DOCS_CHART} with `--update-docs` or
 * `SEED_UPDATE_DOCS=1`.
 *
 * @param args The program's arguments (`Deno.args`).
 * @param env The value of `SEED_UPDATE_DOCS`, if set.
 * @returns The file URL to write the chart to.
 * @throws {TypeError} If an argument is not `--update-docs`, or `env` is set
 *   to anything but `"0"`, `"1"` or the empty string: a typo must not quietly
 *   leave the README's chart as it was.
 *
 * @example Choosing the chart's file
 * ```ts
 * import { chartUrl, DOCS_CHART, SCRATCH_CHART } from "./_chart_path.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(chartUrl([], undefined), SCRATCH_CHART);
 * assert.equal(chartUrl(["--update-docs"], undefined), DOCS_CHART);
 * assert.equal(chartUrl([], "1"), DOCS_CHART);
 * assert.throws(() => chartUrl(["--update-doc"], undefined), TypeError);
 * ```
 */
export function chartUrl(
  args: readonly string[],
  env: string | undefined,
): URL {
  const unknown = args.filter((arg) => arg !== UPDATE_DOCS_FLAG);
  if (unknown.length > 0) {
    throw new TypeError(
      `Cannot choose where to write the chart as the only argument taken is ${UPDATE_DOCS_FLAG}: received ${
        unknown.map((arg) => JSON.stringify(arg)).join(", ")
      }`,
    );
  }
  if (env !== undefined && !["", "0", "1"].includes(env)) {
    throw new TypeError(
      `Cannot choose where to write the chart as ${UPDATE_DOCS_ENV} must be "1" or "0": received ${
        JSON.stringify(env)
      }`,
    );
  }
  return args.includes(UPDATE_DOCS_FLAG) || env === "1"
    ? DOCS_CHART
    : SCRATCH_CHART;
}
