// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import {
  chartUrl,
  DOCS_CHART,
  SCRATCH_CHART,
  UPDATE_DOCS_ENV,
  UPDATE_DOCS_FLAG,
} from "./_chart_path.ts";

const root = new URL("../", import.meta.url);

Deno.test("chartUrl() writes outside the tracked docs unless asked", () => {
  assert.equal(chartUrl([], undefined), SCRATCH_CHART);
  assert.equal(chartUrl([], ""), SCRATCH_CHART);
  assert.equal(chartUrl([], "0"), SCRATCH_CHART);
});

Deno.test("chartUrl() rewrites docs/pool_sizes.svg for the flag or the variable", () => {
  assert.equal(chartUrl([UPDATE_DOCS_FLAG], undefined), DOCS_CHART);
  assert.equal(chartUrl([], "1"), DOCS_CHART);
  assert.equal(chartUrl([UPDATE_DOCS_FLAG], "0"), DOCS_CHART);
  assert.equal(DOCS_CHART.href, new URL("docs/pool_sizes.svg", root).href);
});

Deno.test("chartUrl() throws TypeError for an argument or a value it does not know", () => {
  assert.throws(
    () => chartUrl(["--update-doc"], undefined),
    {
      name: "TypeError",
      message:
        'Cannot choose where to write the chart as the only argument taken is --update-docs: received "--update-doc"',
    },
  );
  assert.throws(
    () => chartUrl([], "yes"),
    {
      name: "TypeError",
      message:
        `Cannot choose where to write the chart as ${UPDATE_DOCS_ENV} must be "1" or "0": received "yes"`,
    },
  );
});

Deno.test("the demo's default chart is in a folder that .gitignore lists", async () => {
  const ignored = (await Deno.readTextFile(new URL(".gitignore", root)))
    .split("\n").map((line) => line.trim());
  const relative = SCRATCH_CHART.href.slice(root.href.length);
  const folder = relative.slice(0, relative.indexOf("/") + 1);
  assert.equal(folder, ".tmp/");
  assert.ok(ignored.includes(folder));
  assert.ok(!ignored.includes("docs/"));
});
