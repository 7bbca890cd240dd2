/** A copy of `array` with twice its length (columns that grow by doubling). */
export function doubled<T extends Int32Array | Float64Array>(array: T): T {
  const grown = new (array.constructor as new (length: number) => T)(array.length * 2);
  grown.set(array);
  return grown;
}
