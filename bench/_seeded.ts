// Copyright the @seed/concurrency authors. MIT license.
// Seeded inputs for the benchmarks: the same bytes and the same order in
// every run, so that runs compare.

/**
 * A seeded pseudo-random generator (a 32-bit xorshift-multiply mix, in the
 * style of the well-known "mulberry32"): returns floats in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles `items` in place (Fisher-Yates) and returns them. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const item = items[i] as T;
    items[i] = items[j] as T;
    items[j] = item;
  }
  return items;
}

const LETTERS = "etaoinshrdlcumwfgypbvkjxqz";

/**
 * `byteLength` bytes of text-like ASCII: words drawn with a skewed (roughly
 * Zipf-like) frequency from a vocabulary of 4,096 random words, with
 * punctuation, capitals after a full stop, numbers and line breaks.
 * Compressible like prose (gzip at level 6 halves it: a ratio of about 2.1)
 * but not trivially: no long repeats beyond what word frequency gives.
 */
export function textLike(byteLength: number, random: () => number): Uint8Array {
  const vocabulary: Uint8Array[] = [];
  for (let w = 0; w < 4096; w++) {
    const length = 1 + Math.floor(random() * random() * 12);
    const word = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      // Frequent letters more often: square the uniform draw.
      const r = random();
      word[i] = LETTERS.charCodeAt(Math.floor(r * r * LETTERS.length));
    }
    vocabulary.push(word);
  }
  const out = new Uint8Array(byteLength);
  let at = 0;
  let capital = true;
  const put = (byte: number) => {
    if (at < byteLength) out[at++] = byte;
  };
  while (at < byteLength) {
    const r = random();
    if (r < 0.02) {
      // A number of up to five digits.
      const digits = String(Math.floor(random() * 100_000));
      for (let i = 0; i < digits.length; i++) put(digits.charCodeAt(i));
    } else {
      const word = vocabulary[Math.floor(4096 * r * r * r)] as Uint8Array;
      for (let i = 0; i < word.length; i++) {
        const byte = word[i] as number;
        put(capital && i === 0 ? byte - 32 : byte);
      }
      capital = false;
    }
    const p = random();
    if (p < 0.06) {
      put(46); // "."
      put(p < 0.012 ? 10 : 32); // a line break now and then
      capital = true;
    } else if (p < 0.12) {
      put(44); // ","
      put(32);
    } else put(32);
  }
  return out;
}
