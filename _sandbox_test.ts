// Copyright the @seed/concurrency authors. MIT license.
import assert from "node:assert/strict";
import {
  assertSandboxSupported,
  parsePermissions,
  sealPermissions,
} from "./_sandbox.ts";

const MAIN = new URL("./testdata/sandbox/main.ts", import.meta.url);
/** Read access to this repository only, so the worker's modules load. */
const READ_REPO = `--allow-read=${new URL("./", import.meta.url).pathname}`;
const SAFETY_NET_MS = 60_000;
const FLAG = "--unstable-worker-options";

// --- parsePermissions -------------------------------------------------------

Deno.test('parsePermissions() maps no option and "inherit" to no sandbox, and keeps "none"', () => {
  assert.equal(parsePermissions(undefined), undefined);
  assert.equal(parsePermissions("inherit"), undefined);
  assert.equal(parsePermissions("none"), "none");
});

Deno.test("parsePermissions() spells out every key, a missing one as false", () => {
  assert.deepEqual(parsePermissions({ net: true, env: "inherit" }), {
    env: "inherit",
    ffi: false,
    import: false,
    net: true,
    read: false,
    run: false,
    sys: false,
    write: false,
  });
  assert.deepEqual(parsePermissions({ read: undefined }), parsePermissions({}));
});

Deno.test("parsePermissions() copies lists, so later changes to the option do not leak in", () => {
  const read: Array<string | URL> = ["./data", new URL("file:///tmp/x")];
  const parsed = parsePermissions({ read, env: ["HOME"] });
  read.push("/etc");
  (read[1] as URL).pathname = "/etc/passwd";
  assert.ok(typeof parsed === "object");
  assert.equal(parsed.read instanceof Array && parsed.read.length, 2);
  assert.deepEqual(
    (parsed.read as Array<string | URL>).map(String),
    ["./data", "file:///tmp/x"],
  );
  assert.deepEqual(parsed.env, ["HOME"]);
});

Deno.test("parsePermissions() accepts a null-prototype object", () => {
  const value = Object.assign(Object.create(null), { sys: ["hostname"] });
  const parsed = parsePermissions(value);
  assert.ok(typeof parsed === "object");
  assert.deepEqual(parsed.sys, ["hostname"]);
});

Deno.test("parsePermissions() rejects a value that is neither a mode nor a plain object", () => {
  for (
    const [value, received] of [
      ["all", '"all"'],
      [true, "true"],
      [null, "null"],
      [[], "an instance of Array"],
      [new Map(), "an instance of Map"],
    ] as const
  ) {
    assert.throws(() => parsePermissions(value), {
      name: "TypeError",
      message:
        `Cannot create pool as 'permissions' must be "inherit", "none" or a permissions object: received ${received}`,
    });
  }
});

Deno.test("parsePermissions() rejects unknown keys, including Deno 1's hrtime", () => {
  assert.throws(() => parsePermissions({ hrtime: true }), {
    name: "TypeError",
    message:
      `Cannot create pool as 'permissions' has an unknown key "hrtime": expected env, ffi, import, net, read, run, sys or write`,
  });
  assert.throws(
    () => parsePermissions({ [Symbol("read")]: true }),
    /unknown key a symbol \(read\)/,
  );
});

Deno.test("parsePermissions() names the key and the accepted forms for a wrong value", () => {
  assert.throws(() => parsePermissions({ read: "x" }), {
    name: "TypeError",
    message:
      `Cannot create pool as 'permissions.read' must be "inherit", a boolean or an array of paths: received "x"`,
  });
  assert.throws(() => parsePermissions({ net: 443 }), {
    name: "TypeError",
    message:
      `Cannot create pool as 'permissions.net' must be "inherit", a boolean or an array of hosts: received 443`,
  });
  assert.throws(() => parsePermissions({ env: "none" }), TypeError);
});

Deno.test("parsePermissions() names the index of a bad list entry", () => {
  assert.throws(() => parsePermissions({ write: ["/tmp", 7] }), {
    name: "TypeError",
    message:
      "Cannot create pool as 'permissions.write[1]' must be a path or a file URL: received 7",
  });
  assert.throws(() => parsePermissions({ env: [new URL("file:///x")] }), {
    name: "TypeError",
    message:
      "Cannot create pool as 'permissions.env[0]' must be a variable name: received an instance of URL",
  });
  assert.throws(() => parsePermissions({ run: [""] }), {
    name: "RangeError",
    message: "Cannot create pool as 'permissions.run[0]' is empty",
  });
  assert.throws(
    () => parsePermissions({ read: [new URL("https://x.test/")] }),
    {
      name: "RangeError",
      message:
        `Cannot create pool as 'permissions.read[0]' must be a file URL: received "https://x.test/"`,
    },
  );
  // A hole in a sparse array is an entry too.
  assert.throws(() => parsePermissions({ sys: [, "hostname"] }), {
    message:
      "Cannot create pool as 'permissions.sys[0]' must be a system API name: received undefined",
  });
});

// --- sealPermissions and assertSandboxSupported in this process -------------

Deno.test("sealPermissions() refuses the main thread and leaves request() alone", () => {
  const request = Deno.permissions.request;
  assert.throws(() => sealPermissions(), {
    name: "Error",
    message:
      "Cannot seal permissions on the main thread: it is for sandboxed workers",
  });
  assert.equal(Deno.permissions.request, request);
});

Deno.test("assertSandboxSupported() passes under deno test with the flag", () => {
  // This file runs with -A and --unstable-worker-options, and deno test
  // never prompts.
  assertSandboxSupported("none");
  assertSandboxSupported({ read: ["./data"] });
});

// --- The flag, checked in child processes (no terminal) ---------------------

interface Outcome {
  code: number;
  stdout: string;
  check: string | undefined;
  result: { states: string[]; redefine: string; read: string } | undefined;
}

function parseOutcome(code: number, stdout: string): Outcome {
  const line = (tag: string) =>
    stdout.split(/\r?\n/).find((text) => text.startsWith(`${tag} `))?.slice(
      tag.length + 1,
    );
  const check = line("CHECK");
  const result = line("RESULT");
  return {
    code,
    stdout,
    check: check === undefined || check === "ok" ? check : JSON.parse(check),
    result: result === undefined ? undefined : JSON.parse(result),
  };
}

/** The environment of a child Deno, without DENO_NO_PROMPT. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", ...extra };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

async function runDeno(
  denoArgs: string[],
  programArgs: string[],
  main: URL = MAIN,
): Promise<Outcome> {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    // The project's deno.json stays out, but a test may bring its own.
    args: [
      "run",
      ...(main === MAIN ? ["--no-config"] : []),
      ...denoArgs,
      main.pathname,
      ...programArgs,
    ],
    clearEnv: true,
    env: childEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(SAFETY_NET_MS),
  }).output();
  return parseOutcome(code, new TextDecoder().decode(stdout));
}

Deno.test("assertSandboxSupported() throws a clear error without the flag instead of letting Deno exit", async () => {
  const outcome = await runDeno(["-A"], ["check", "explicit"]);
  assert.equal(outcome.code, 0, outcome.stdout);
  assert.equal(
    outcome.check,
    `Cannot create pool as 'permissions' needs Deno's ${FLAG} flag (or "unstable": ["worker-options"] in deno.json), which this process does not have`,
  );
  assert.equal(outcome.result, undefined);
});

Deno.test("assertSandboxSupported() passes with the flag, and the restricted worker starts", async () => {
  const outcome = await runDeno(["-A", FLAG], ["check", "explicit"]);
  assert.equal(outcome.code, 0, outcome.stdout);
  assert.equal(outcome.check, "ok");
  assert.ok(outcome.result !== undefined, outcome.stdout);
});

Deno.test("assertSandboxSupported() sees the flag set in deno.json", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const main = new URL(`file://${dir}/main.ts`);
    await Deno.writeTextFile(main, `import ${JSON.stringify(MAIN.href)};\n`);
    for (const unstable of [[], ["worker-options"]]) {
      await Deno.writeTextFile(
        `${dir}/deno.json`,
        JSON.stringify({ unstable, lock: false }),
      );
      const outcome = await runDeno(["-A"], ["check", "explicit"], main);
      assert.equal(outcome.code, 0, outcome.stdout);
      if (unstable.length === 0) {
        assert.match(outcome.check ?? "", /which this process does not have/);
      } else {
        assert.equal(outcome.check, "ok");
        assert.ok(outcome.result !== undefined, outcome.stdout);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assertSandboxSupported() fails closed where it cannot check for the flag", async () => {
  const outcome = await runDeno([READ_REPO, FLAG], [
    "check",
    "explicit",
  ]);
  assert.equal(outcome.code, 0, outcome.stdout);
  assert.match(
    outcome.check ?? "",
    /cannot confirm it has it: run Deno with --allow-run and --allow-env \(or -A\)/,
  );
  assert.equal(outcome.result, undefined);
});

Deno.test("sealPermissions() answers request() from query(), never from the prompter", async () => {
  // Without a terminal Deno's prompter denies at once and remembers it, so
  // an unsealed worker ends with "denied"; a sealed one never asks.
  const open = await runDeno([READ_REPO, FLAG], ["explicit"]);
  assert.deepEqual(open.result, {
    states: ["denied", "denied", "denied", "denied", "denied"],
    redefine: "redefined",
    read: "not tried",
  });
  const sealed = await runDeno([READ_REPO, FLAG], ["seal", "explicit"]);
  assert.deepEqual(sealed.result, {
    states: ["prompt", "prompt", "prompt", "prompt", "prompt"],
    redefine: "TypeError",
    read: "not tried",
  });
});

// --- Prompts, in a pseudo-terminal ------------------------------------------

const HAS_SCRIPT = Deno.build.os === "linux" && (() => {
  try {
    return new Deno.Command("script", { args: ["--version"] }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs main.ts under `script`, which gives it a terminal for stdin and
 * stderr, so Deno prompts there as it would for an operator. A prompt is
 * never answered: on the first one the child is stopped, so it cannot hang.
 */
async function runInTerminal(
  denoArgs: string[],
  programArgs: string[],
  env: Record<string, string> = {},
): Promise<Outcome & { prompted: boolean }> {
  const command = [
    Deno.execPath(),
    "run",
    "--no-config",
    ...denoArgs,
    MAIN.pathname,
    ...programArgs,
  ].map(quote).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qfec", command, "/dev/null"],
    clearEnv: true,
    env: childEnv(env),
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(SAFETY_NET_MS),
  }).spawn();
  const decoder = new TextDecoder();
  let stdout = "";
  let prompted = false;
  for await (const chunk of child.stdout) {
    stdout += decoder.decode(chunk, { stream: true });
    if (!prompted && /Allow\?|Deno requests/.test(stdout)) {
      prompted = true;
      child.kill("SIGTERM");
    }
  }
  await child.stdin.close();
  const { code } = await child.status;
  return { ...parseOutcome(code, stdout), prompted };
}

const terminal = { ignore: !HAS_SCRIPT, sanitizeResources: true };

Deno.test({
  ...terminal,
  name:
    'Control: without sealing, task code in a "none" worker makes Deno prompt the operator',
  async fn() {
    const outcome = await runInTerminal(
      [READ_REPO, FLAG],
      [
        "explicit",
      ],
    );
    assert.ok(outcome.prompted, outcome.stdout);
    assert.match(
      outcome.stdout,
      /Deno requests read access\.\s+┠─ Requested by `Deno\.permissions\.request\(\)` API/,
    );
    assert.equal(outcome.result, undefined);
  },
});

Deno.test({
  ...terminal,
  name:
    "sealPermissions() turns every request() path into a query: no prompt, nothing granted",
  async fn() {
    const outcome = await runInTerminal(
      [READ_REPO, FLAG],
      [
        "seal",
        "explicit",
      ],
    );
    assert.equal(outcome.prompted, false, outcome.stdout);
    assert.deepEqual(outcome.result, {
      states: ["prompt", "prompt", "prompt", "prompt", "prompt"],
      redefine: "TypeError",
      read: "not tried",
    });
  },
});

Deno.test({
  ...terminal,
  name:
    "sealPermissions() cannot stop an implicit prompt, so prompts must be off",
  async fn() {
    const outcome = await runInTerminal(
      [READ_REPO, FLAG],
      [
        "seal",
        "implicit",
      ],
    );
    assert.ok(outcome.prompted, outcome.stdout);
    assert.match(
      outcome.stdout,
      /Deno requests read access to "[^"]*attack\.ts"\.\s+┠─ Requested by `Deno\.readFileSync\(\)` API/,
    );
    assert.equal(outcome.result, undefined);
  },
});

Deno.test({
  ...terminal,
  name:
    "assertSandboxSupported() refuses a sandbox in a terminal where Deno prompts",
  async fn() {
    const outcome = await runInTerminal(["-A", FLAG], ["check", "seal", "all"]);
    assert.equal(outcome.prompted, false, outcome.stdout);
    assert.equal(
      outcome.check,
      "Cannot create pool as task code could make Deno ask the operator at this terminal for env, ffi, import, net, read, run, sys, write access: run Deno with --no-prompt (or DENO_NO_PROMPT=1), or without a terminal",
    );
    assert.equal(outcome.result, undefined);
  },
});

Deno.test({
  ...terminal,
  name:
    "assertSandboxSupported() accepts --no-prompt, and then no task code can prompt or gain read access",
  async fn() {
    const outcome = await runInTerminal(["-A", "--no-prompt", FLAG], [
      "check",
      "seal",
      "all",
    ]);
    assert.equal(outcome.prompted, false, outcome.stdout);
    assert.equal(outcome.check, "ok");
    assert.deepEqual(outcome.result, {
      states: ["prompt", "prompt", "prompt", "prompt", "prompt"],
      redefine: "TypeError",
      read: "NotCapable",
    });
  },
});

Deno.test({
  ...terminal,
  name: "assertSandboxSupported() accepts DENO_NO_PROMPT=1 when it may read it",
  async fn() {
    const outcome = await runInTerminal(
      ["-A", FLAG],
      ["check", "seal", "all"],
      {
        DENO_NO_PROMPT: "1",
      },
    );
    assert.equal(outcome.prompted, false, outcome.stdout);
    assert.equal(outcome.check, "ok");
    assert.equal(outcome.result?.read, "NotCapable");
  },
});
