// Copyright the @seed/concurrency authors. MIT license.
// Keeps the entry points complete: every public module of a folder is
// re-exported by its mod.ts, every deno.json export exists, and the root
// module re-exports every entry point.
import assert from "node:assert/strict";

const root = new URL("./", import.meta.url);
const config = JSON.parse(
  Deno.readTextFileSync(new URL("deno.json", root)),
) as {
  exports: Record<string, string>;
};

function publicModules(dir: string): string[] {
  return [...Deno.readDirSync(new URL(dir, root))]
    .map((entry) => entry.name)
    .filter((name) =>
      name.endsWith(".ts") && !name.startsWith("_") &&
      !name.endsWith("_test.ts") &&
      name !== "mod.ts"
    )
    .sort();
}

for (const dir of ["errors/", "sync/", "channels/", "cluster/"]) {
  Deno.test(`${dir}mod.ts re-exports every public module of ${dir}`, () => {
    const mod = Deno.readTextFileSync(new URL(`${dir}mod.ts`, root));
    for (const name of publicModules(dir)) {
      assert.ok(
        mod.includes(`export * from "./${name}";`),
        `${dir}mod.ts does not re-export ${name}`,
      );
    }
  });
}

/** Entry points the root module must not import: they have npm dependencies. */
const OWN_DEPENDENCIES = new Set(["./cluster", "./cluster/worker"]);

Deno.test("every deno.json export exists and the root module re-exports each", async () => {
  const rootMod = Deno.readTextFileSync(new URL("mod.ts", root));
  for (const [entry, path] of Object.entries(config.exports)) {
    const url = new URL(path, root);
    assert.ok(Deno.statSync(url).isFile, `${entry} -> ${path} is missing`);
    await import(url.href);
    if (OWN_DEPENDENCIES.has(entry)) {
      assert.ok(
        !rootMod.includes(path),
        `mod.ts must not import ${path}: the core has no runtime dependencies`,
      );
    } else if (entry !== ".") {
      assert.ok(
        rootMod.includes(`export * from "${path}";`),
        `mod.ts does not re-export ${path}`,
      );
    }
  }
});
