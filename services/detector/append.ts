/** Append to a lazily created array: `list = append(list, x)`. Hot paths allocate only on a hit. */
export function append<T>(list: T[] | undefined, value: T): T[] {
  if (list === undefined) return [value];
  list.push(value);
  return list;
}
