// For tests: secrets assembled at run time from a seeded generator, so the repository holds no
// string that a secret scanner (or a reader) could mistake for a live credential.
export function secretGenerator(seed: number) {
  let x = seed;
  return (n: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') => {
    let s = '';
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      s += alphabet[(x >>> 16) % alphabet.length];
    }
    return s;
  };
}
