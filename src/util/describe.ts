/**
 * How validation messages name what they got instead of what they expected: `null`, a
 * primitive's type, or an object's class (`got Array`, `got Uint32Array`) — never its value,
 * which may be secret.
 * @module
 */

/** `null`, `typeof v` for a primitive, else the constructor's name (`object` without one). */
export function describeKind(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}
