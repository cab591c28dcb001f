/**
 * Typed reading of a generated ARM template (plain JSON), for the tests and tools that check it: resources by
 * type, property paths, every string, and the parameters and variables an expression names.
 */
import type { Json, JsonObject } from './arm.js';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isArray(value: unknown): value is readonly Json[] {
  return Array.isArray(value);
}

/** The value at `path` (object keys and array indexes), or undefined. */
export function at(value: unknown, ...path: readonly (string | number)[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!isArray(current)) return undefined;
      current = current[key];
    } else {
      if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
      current = current[key];
    }
  }
  return current;
}

export function stringAt(value: unknown, ...path: readonly (string | number)[]): string {
  const found = at(value, ...path);
  if (typeof found !== 'string') throw new Error(`expected a string at ${path.join('.')}`);
  return found;
}

export function objectAt(value: unknown, ...path: readonly (string | number)[]): JsonObject {
  const found = at(value, ...path);
  if (!isObject(found)) throw new Error(`expected an object at ${path.join('.')}`);
  return found;
}

export function arrayAt(value: unknown, ...path: readonly (string | number)[]): readonly Json[] {
  const found = at(value, ...path);
  if (!isArray(found)) throw new Error(`expected an array at ${path.join('.')}`);
  return found;
}

export function resources(template: unknown): JsonObject[] {
  return arrayAt(template, 'resources').filter(isObject);
}

export function resourcesOfType(template: unknown, type: string): JsonObject[] {
  return resources(template).filter((r) => r.type === type);
}

/** Every string in the value, with the path where it is. */
export function strings(value: unknown, path = ''): { path: string; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (isArray(value)) return value.flatMap((item, i) => strings(item, `${path}[${i}]`));
  if (isObject(value)) return Object.entries(value).flatMap(([k, item]) => strings(item, `${path}.${k}`));
  return [];
}

/** An ARM template expression: a string in brackets (`[[` escapes a literal bracket). */
export function isExpression(value: string): boolean {
  return value.startsWith('[') && !value.startsWith('[[') && value.endsWith(']');
}

/** Names the expression passes to `parameters('...')` or `variables('...')`. */
export function referenced(expression: string, kind: 'parameters' | 'variables'): string[] {
  return [...expression.matchAll(new RegExp(`${kind}\\('([^']+)'\\)`, 'g'))].map((m) => m[1] ?? '');
}
