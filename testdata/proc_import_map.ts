// A task module that imports through deno.json's import map (an npm package).
import fc from "fast-check";

export function sample(): number {
  return fc.sample(fc.integer({ min: 1, max: 1 }), 1)[0] as number;
}
