// Copyright the @seed/concurrency authors. MIT license.

/**
 * Fails when the library's modules import each other in a cycle at run time
 * (static or dynamic `import`; `import type` does not count). Reads the
 * module graph from `deno info --json`, over every published module: not
 * tests, benches, examples, test data or tools.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-run tools/check_cycles.ts
 * ```
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
const SKIP_DIRS = new Set([
  ".git",
  "bench",
  "docs",
  "examples",
  "testdata",
  "tools",
  "node_modules",
]);

/**
 * Edges allowed for now, as `from -> to`: each one must say when it goes.
 */
const ALLOWED = new Set<string>();

interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

async function libraryModules(dir: URL, out: string[] = []): Promise<string[]> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory && !SKIP_DIRS.has(entry.name)) {
      await libraryModules(new URL(`${entry.name}/`, dir), out);
    } else if (
      entry.isFile && entry.name.endsWith(".ts") &&
      !entry.name.endsWith("_test.ts") && !entry.name.startsWith("_test_")
    ) {
      out.push(new URL(entry.name, dir).href);
    }
  }
  return out.sort();
}

/** The runtime import graph among `modules`: edges labelled dynamic or not. */
async function runtimeGraph(
  modules: string[],
): Promise<Map<string, Map<string, boolean>>> {
  const dir = await Deno.makeTempDir();
  try {
    const entry = `${dir}/all.ts`;
    await Deno.writeTextFile(
      entry,
      modules.map((m) => `import ${JSON.stringify(m)};`).join("\n"),
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "info",
        "--json",
        `--config=${new URL("deno.json", ROOT).pathname}`,
        entry,
      ],
      stderr: "inherit",
    }).output();
    if (!output.success) throw new Error("deno info failed");
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      modules: ModuleInfo[];
    };
    const library = new Set(modules);
    const graph = new Map<string, Map<string, boolean>>();
    for (const module of info.modules) {
      if (!library.has(module.specifier)) continue;
      const edges = new Map<string, boolean>();
      for (const dep of module.dependencies ?? []) {
        const target = dep.code?.specifier;
        if (target !== undefined && library.has(target)) {
          edges.set(
            target,
            (edges.get(target) ?? true) && dep.isDynamic === true,
          );
        }
      }
      graph.set(module.specifier, edges);
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Tarjan's strongly connected components with more than one module, or a self-import. */
function cycles(graph: Map<string, Map<string, boolean>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node)?.keys() ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) {
        found.push(component.sort());
      }
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const name = (specifier: string) => specifier.slice(ROOT.href.length);

const graph = await runtimeGraph(await libraryModules(ROOT));
for (const [from, edges] of graph) {
  for (const to of edges.keys()) {
    if (ALLOWED.has(`${name(from)} -> ${name(to)}`)) {
      console.log(`allowed for now: ${name(from)} -> ${name(to)}`);
      edges.delete(to);
    }
  }
}
const found = cycles(graph);
for (const component of found) {
  console.error(`Runtime import cycle among ${component.length} modules:`);
  for (const from of component) {
    for (const [to, dynamic] of graph.get(from)!) {
      if (component.includes(to)) {
        console.error(
          `  ${name(from)} ${dynamic ? "-(dynamic)->" : "->"} ${name(to)}`,
        );
      }
    }
  }
}
console.log(`${graph.size} library modules, ${found.length} runtime cycles`);
if (found.length > 0) Deno.exit(1);
