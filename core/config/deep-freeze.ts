/**
 * Freezing parsed configuration — the sidecar's own and each plugin's options — once it is
 * validated, so no part (no hook) can change what later readers see.
 */

/**
 * Freeze plain objects (null-prototype ones too) and arrays, and what they hold. Class instances (a Date, a RegExp or a URL
 * a schema's transform made) are left as they are: frozen, some stop working (a global RegExp
 * writes its `lastIndex`).
 */
export function deepFreeze<T>(value: T): T {
  if (Array.isArray(value) || isPlainObject(value)) {
    if (Object.isFrozen(value)) return value;
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** An object literal's kind: its prototype is `Object.prototype`, or none at all. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
