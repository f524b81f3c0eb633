// The task piscina runs in the benchmarks (piscina loads it with import()).
export function square(x) {
  return x * x;
}
export function record(x) {
  return { value: x, label: `item ${x}` };
}
export function squareAll(xs) {
  const out = new Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = xs[i] * xs[i];
  return out;
}
export function spin({ x, iterations }) {
  let state = x | 0;
  for (let i = 0; i < iterations; i++) {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
  }
  return state === 0.5 ? -1 : x;
}
// Warmed on tiny counts first, as bench/_tasks.ts's spin (see there why).
for (let i = 0; i < 4; i++) spin({ x: i, iterations: 1 });
export default square;
