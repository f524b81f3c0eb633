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

/** One measurement: a workload at a pool size, with threads or processes. */
export interface ChartRow {
  /** The workload's legend label. */
  workload: string;
  /** What ran the pool's workers: its `isolation` option. */
  isolation: "thread" | "process";
  /** The pool's size (its most workers). */
  size: number;
  /** The median time, in milliseconds. */
  timeMs: number;
  /** Time at pool size 1 divided by this time. */
  speedup: number;
}

/** How the legend names each isolation. */
const PLURAL = { thread: "threads", process: "processes" } as const;

/**
 * Writes an SVG of time and speedup against pool size, one line per
 * workload and isolation (a pair of colours per workload, solid lines for
 * threads and dashed for processes), with the ideal speedup capped at
 * `cores`.
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
  const isolations = (["thread", "process"] as const).filter((isolation) =>
    rows.some((row) => row.isolation === isolation)
  );
  const name = (workload: string, isolation: ChartRow["isolation"]) =>
    `${workload}, ${PLURAL[isolation]}`;
  const ideal = `ideal: pool size, capped at the ${cores} cores`;
  // A colour for threads and one for processes, per workload.
  const palette = [
    { thread: "#e45756", process: "#f58518" },
    { thread: "#4c78a8", process: "#54a24b" },
  ];
  // One series per workload and isolation, in that order, then the ideal.
  const series: string[] = [];
  const colors: string[] = [];
  const dashes: number[][] = [];
  for (const [i, workload] of workloads.entries()) {
    for (const isolation of isolations) {
      series.push(name(workload, isolation));
      colors.push(palette[i % palette.length]?.[isolation] ?? "#000000");
      dashes.push(isolation === "thread" ? [1, 0] : [7, 4]);
    }
  }
  series.push(ideal);
  colors.push("#888888");
  dashes.push([2, 3]);
  const values = rows.map((row) => ({
    ...row,
    series: name(row.workload, row.isolation),
  }));
  const idealRows = sizes.map((size) => ({
    series: ideal,
    size,
    speedup: Math.min(size, cores),
  }));
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
  /** A label on each point that `filter` keeps. */
  type Label = { expr: string; filter: string; dx: number; dy: number };
  /** One panel: a line per series, its points labelled by `labels`. */
  const panel = (
    title: string,
    values: object[],
    y: { field: string; title: string; ticks?: number[] },
    labels: Label[],
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
        field: "series",
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
            field: "series",
            type: "nominal",
            scale: { domain: series, range: dashes },
            legend,
          },
        },
      },
      ...labels.map((label) => ({
        transform: [
          { filter: label.filter },
          { calculate: label.expr, as: "label" },
        ],
        mark: {
          type: "text" as const,
          dx: label.dx,
          dy: label.dy,
          align: label.dx === 0 ? "center" as const : "left" as const,
          fontSize: 11,
        },
        encoding: { text: { field: "label", type: "nominal" as const } },
      })),
    ],
  });

  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "WorkerPool: time and speedup by pool size, threads and processes",
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
        values,
        {
          field: "timeMs",
          title: "Time (ms, log scale)",
          ticks: [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
        },
        // Threads' times above their points, processes' below.
        [
          { dy: -10, filter: "datum.isolation === 'thread'" },
          { dy: 16, filter: "datum.isolation === 'process'" },
        ].map(({ dy, filter }) => ({
          expr: "format(datum.timeMs, '.0f') + ' ms'",
          filter,
          dx: 0,
          dy,
        })),
      ),
      panel(
        "Speedup over pool size 1 (higher is better)",
        [...values, ...idealRows],
        { field: "speedup", title: "Speedup (×)" },
        // Only the last workload's points are labelled: the others stay
        // near 1 × (or on the ideal line), where labels would collide. Both
        // isolations' labels go below their points (above, they would sit
        // on the ideal line), the processes' one line lower.
        [
          { dy: 14, filter: "datum.isolation === 'thread'" },
          { dy: 27, filter: "datum.isolation === 'process'" },
        ].map(({ dy, filter }) => ({
          expr: "format(datum.speedup, '.2f') + '×'",
          filter: `datum.size > 1 && ${filter} && datum.workload === ${
            JSON.stringify(workloads.at(-1))
          }`,
          dx: 4,
          dy,
        })),
      ),
    ],
    resolve: { scale: { color: "shared", strokeDash: "shared" } },
  } satisfies TopLevelSpec;

  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  await Deno.writeTextFile(path, svg);
}
