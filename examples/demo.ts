// Copyright the @seed/concurrency authors. MIT license.
// `deno task demo`: runs every notebook cell example (examples/cell*.ts) in
// order, then the examples beyond the notebook (examples/more_*.ts), each in
// its own process, and exits non-zero if any fails.

const dir = new URL(".", import.meta.url);
const cells = [...Deno.readDirSync(dir)]
  .map((entry) => entry.name)
  .filter((name) =>
    /^(cell\d+|more_).*\.ts$/.test(name) && !name.endsWith("_test.ts")
  )
  .sort((a, b) =>
    Number(a.startsWith("more_")) - Number(b.startsWith("more_")) ||
    a.localeCompare(b)
  );

const failed: string[] = [];
for (const name of cells) {
  console.log(`\n=== ${name} ${"=".repeat(Math.max(0, 60 - name.length))}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-worker-options",
      new URL(name, dir).pathname,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) failed.push(`${name} (exit code ${code})`);
}

console.log();
if (failed.length > 0) {
  console.error(
    `${failed.length} of ${cells.length} examples failed: ${failed.join(", ")}`,
  );
  Deno.exit(1);
}
console.log(`All ${cells.length} examples ran.`);
