/** Seeded randomness for tests; print the seed so a failure can be replayed. */

/** A seeded PRNG (mulberry32) so randomized tests can be replayed from a printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed from the environment (TEST_SEED) or a fresh one, printed for replay. */
export function testSeed(label: string): number {
  const seed = process.env.TEST_SEED ? Number(process.env.TEST_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.info(`[${label}] seed=${seed} (replay with TEST_SEED=${seed})`);
  return seed;
}
