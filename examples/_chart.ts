// Copyright the @seed/concurrency authors. MIT license.
// Internal to the examples: draws cell12's pool-size chart with Vega-Lite,
// rendered headless to SVG by Vega (no browser, no canvas).
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** A layered panel of a side-by-side (hconcat) chart. */
type LayerPanel = Extract<
  Extract<TopLevelSpec, { hconcat: unknown }>["hconcat"][number],
  { layer: unknown }
>;

/** One measurement: a workload at a pool size. */
export interface ChartRow {
  /** The workload's legend label. */
  workload: string;
  /** The pool's size (its most workers). */
  size: number;
  /** The median time, in milliseconds. */
  timeMs: number;
  /** Time at pool size 1 divided by this time. */
  speedup: number;
}

/**
 * Writes an SVG of time and speedup against pool size, one line per
 * workload, with the ideal speedup capped at `cores`.
 *
 * @param path Where to write the SVG.
 * @param rows The measurements.
 * @param cores The machine's core count.
 * @param notes Subtitle lines: how the numbers were measured.
 */
export async function writePoolSizesChart(
  path: URL,
  rows: readonly ChartRow[],
  cores: number,
  notes: string[],
): Promise<void> {
  const sizes = [...new Set(rows.map((row) => row.size))].sort((a, b) => a - b);
  const workloads = [...new Set(rows.map((row) => row.workload))];
  const ideal = `ideal: pool size, capped at the ${cores} cores`;
  const series = [...workloads, ideal];
  const idealRows = sizes.map((size) => ({
    workload: ideal,
    size,
    speedup: Math.min(size, cores),
  }));

  const colors = ["#e45756", "#4c78a8", "#888888"];
  const dashes = [[1, 0], [1, 0], [5, 4]];
  const legend = {
    title: null,
    orient: "bottom",
    direction: "vertical",
    symbolType: "stroke",
    symbolStrokeWidth: 2.5,
    symbolSize: 300,
    labelFontSize: 12,
    labelLimit: 0,
  } as const;
  /** One panel: a line per workload, its points labelled by `label`. */
  const panel = (
    title: string,
    values: object[],
    y: { field: string; title: string; ticks?: number[] },
    label: { expr: string; filter: string; dx: number; dy: number },
  ): LayerPanel => ({
    title: { text: title, fontSize: 13 },
    width: 330,
    height: 260,
    data: { values },
    encoding: {
      x: {
        field: "size",
        type: "quantitative",
        title: "Pool size (workers, log scale)",
        scale: {
          type: "log",
          base: 2,
          domain: [sizes[0] ?? 1, sizes.at(-1) ?? 1],
          padding: 28,
        },
        axis: { values: sizes, format: "d", grid: false },
      },
      y: {
        field: y.field,
        type: "quantitative",
        title: y.title,
        scale: y.ticks ? { type: "log" as const } : { domainMin: 0 },
        axis: y.ticks ? { values: y.ticks } : {},
      },
      color: {
        field: "workload",
        type: "nominal",
        scale: { domain: series, range: colors },
        legend,
      },
    },
    layer: [
      {
        mark: {
          type: "line",
          strokeWidth: 2,
          point: { filled: true, size: 45 },
        },
        encoding: {
          strokeDash: {
            field: "workload",
            type: "nominal",
            scale: { domain: series, range: dashes },
            legend,
          },
        },
      },
      {
        transform: [
          { filter: label.filter },
          { calculate: label.expr, as: "label" },
        ],
        mark: {
          type: "text",
          dx: label.dx,
          dy: label.dy,
          align: label.dx === 0 ? "center" : "left",
          fontSize: 11,
        },
        encoding: { text: { field: "label", type: "nominal" } },
      },
    ],
  });

  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "WorkerPool: time and speedup by pool size",
      subtitle: notes,
      anchor: "start",
      fontSize: 17,
      subtitleFontSize: 12,
      subtitlePadding: 6,
      offset: 16,
    },
    padding: 16,
    spacing: 40,
    config: {
      font: "sans-serif",
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 12, titlePadding: 8 },
    },
    hconcat: [
      panel(
        "Time (lower is better)",
        [...rows],
        {
          field: "timeMs",
          title: "Time (ms, log scale)",
          ticks: [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
        },
        {
          expr: "format(datum.timeMs, '.0f') + ' ms'",
          filter: "true",
          dx: 0,
          dy: -10,
        },
      ),
      panel(
        "Speedup over pool size 1 (higher is better)",
        [...rows, ...idealRows],
        { field: "speedup", title: "Speedup (×)" },
        // Only the last workload's points are labelled: the others stay
        // near 1 × (or on the ideal line), where labels would collide.
        {
          expr: "format(datum.speedup, '.2f') + '×'",
          filter: `datum.size > 1 && datum.workload === ${
            JSON.stringify(workloads.at(-1))
          }`,
          dx: 4,
          dy: 13,
        },
      ),
    ],
    resolve: { scale: { color: "shared", strokeDash: "shared" } },
  } satisfies TopLevelSpec;

  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  await Deno.writeTextFile(path, svg);
}
