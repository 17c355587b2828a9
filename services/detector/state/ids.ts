// 52-bit FNV-1a-style hash of an event id: two 26-bit lanes, exact in a double. Used to remember
// recent event ids in 8 bytes each instead of the id string (~60 bytes).
export function idHash(id: string): number {
  let a = 0x811c9dc5 | 0;
  let b = 0x1b873593 | 0;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 6) * 0x4000000 + (b >>> 6);
}
