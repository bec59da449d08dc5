// Seeded inputs for differential tests (the same inputs every run): a random generator, and single-character
// mutations of documents (the shim launcher's C readers against the Node shim).

/** A linear congruential generator: rand(n) in [0, n). */
export function seededRandom(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
}

/** `count` documents, each one of `bases` (in turn) with 1-3 characters deleted, inserted or replaced from `alphabet`. */
export function mutations(bases: string[], alphabet: string, count: number, seed: number): string[] {
  const rand = seededRandom(seed);
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    const chars = [...bases[i % bases.length]!];
    for (let k = 1 + rand(3); k > 0; k--) {
      const at = rand(chars.length);
      const op = rand(3);
      if (op === 0) chars.splice(at, 1);
      else if (op === 1) chars.splice(at, 0, alphabet[rand(alphabet.length)]!);
      else chars[at] = alphabet[rand(alphabet.length)]!;
    }
    docs.push(chars.join(''));
  }
  return docs;
}
