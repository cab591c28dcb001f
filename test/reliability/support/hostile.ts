/**
 * Hostile input for property-based tests: arbitrary mutations of valid JSON documents (wrong types, missing
 * fields, huge strings, deep nesting, unicode, `__proto__` and other awkward keys), and oracles for what the
 * bridge produces from them.
 */
import fc from 'fast-check';
import { jsonBytes, MAX_FIELD_BYTES, MAX_ROW_BYTES, utf8Length } from '../../../shared/domain/rows/limits.js';
import type { Row } from '../../../shared/domain/rows/row.js';
import type { TableDefinition } from '../../../shared/domain/tables/columns.js';
import { isIsoDateTime, typeMismatch } from '../../../shared/local/ingestion-server.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

/** Characters that break naive code: escapes, NUL, astral, RTL, combining marks, lone surrogates, BOM. */
const NASTY_UNITS = [
  'x',
  '"',
  '\\',
  '\u0000',
  '\n',
  '😀',
  '\ud800',
  '\udfff',
  'é',
  'ש',
  '\u202e',
  '\u0301',
  '\ufeff',
];

/** A string of one repeated unit, 60 KB to 300 KB of UTF-16: over the 64 KB field limit once encoded. */
export const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...NASTY_UNITS), fc.integer({ min: 60_000, max: 300_000 }))
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)));

/** Unicode of every kind, lone surrogates included (`unit: 'binary'` draws any code unit). */
export const unicodeString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc
    .array(fc.constantFrom(...NASTY_UNITS, 'مرحبا', '𝔘𝔫𝔦', '👩🏽‍💻', 'e\u0301\u0302'), { maxLength: 40 })
    .map((a) => a.join('')),
);

/** Keys that prototype-polluting or naive code mishandles. */
export const awkwardKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'hasOwnProperty',
    'toString',
    '',
    ' ',
    '\u0000',
    '😀',
    'detail',
  ),
  unicodeString,
);

/**
 * A deeply nested value, written into the JSON text after serialisation (building it as an object and
 * stringifying it would overflow the stack of the test itself): `{"d":{"d":...}}` or `[[[...]]]`.
 */
const DEEP = /"@@deep:(\d+):(o|a)@@"/g;
export const deepValue: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 20, max: 6_000 }), fc.constantFrom('o', 'a'))
  .map(([depth, kind]) => `@@deep:${depth}:${kind}@@`);

export function expandDeep(text: string): string {
  return text.replace(DEEP, (_match, depth: string, kind: string) => {
    const n = Number(depth);
    return kind === 'o' ? `${'{"d":'.repeat(n)}0${'}'.repeat(n)}` : `${'['.repeat(n)}0${']'.repeat(n)}`;
  });
}

/** An object with an own `__proto__` key (as `JSON.parse` makes one), which `obj[key] = v` would turn into a prototype. */
export function withOwnKey(target: { [key: string]: Json }, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Any replacement value: wrong types, huge, deep, unicode, prototype-shaped objects, edge numbers. */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: deepValue },
  { weight: 3, arbitrary: unicodeString },
  {
    weight: 1,
    arbitrary: fc.jsonValue({ maxDepth: 2 }).map((inner) => {
      const out: { [key: string]: Json } = {};
      withOwnKey(out, '__proto__', { polluted: inner as Json, toString: 'x' });
      return out;
    }),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Json>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      1e308,
      -1e308,
      2 ** 53 + 1,
      '',
      ' ',
      [],
      {},
      '0',
      'true',
    ),
  },
);

export type MutationOp = 'delete' | 'set' | 'key' | 'wrap';

export interface Mutation {
  readonly op: MutationOp;
  /** Picks the path (modulo the number of paths in the document). */
  readonly at: number;
  readonly value: Json;
  readonly key: string;
}

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom<MutationOp>('delete', 'set', 'set', 'key', 'wrap'),
  at: fc.nat(),
  value: hostileValue,
  key: awkwardKey,
});

function paths(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      out.push([...prefix, index]);
      paths(item, [...prefix, index], out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push([...prefix, key]);
      paths(item, [...prefix, key], out);
    }
  }
  return out;
}

function parentOf(root: Json, path: Path): Container | undefined {
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (Array.isArray(node) ? node[Number(key)] : node[String(key)]) as Json;
  }
  return typeof node === 'object' && node !== null ? node : undefined;
}

/** Applies the mutations to a deep copy of `document` and returns the JSON text (deep values expanded). */
export function mutate(document: Json, mutations: readonly Mutation[]): string {
  const root = structuredClone(document);
  for (const m of mutations) {
    const all = paths(root);
    if (all.length === 0) break;
    const path = all[m.at % all.length] as Path;
    const parent = parentOf(root, path);
    const last = path[path.length - 1] as string | number;
    if (parent === undefined) continue;
    if (Array.isArray(parent)) {
      const index = Number(last);
      if (m.op === 'delete') parent.splice(index, 1);
      else if (m.op === 'wrap') parent[index] = [parent[index] ?? null];
      else parent[index] = m.value;
      continue;
    }
    const key = String(last);
    if (m.op === 'delete') delete parent[key];
    else if (m.op === 'wrap') withOwnKey(parent, key, [parent[key] ?? null]);
    else if (m.op === 'set') withOwnKey(parent, key, m.value);
    else withOwnKey(parent, m.key, m.value);
  }
  return expandDeep(JSON.stringify(root));
}

/** Why a row would not be stored as it is by the service, or trips a limit (empty when it is fine). */
export function rowProblems(table: TableDefinition, row: Row): string[] {
  const problems: string[] = [];
  const columns = new Map(table.columns.map((c) => [c.name, c]));
  if (Object.getPrototypeOf(row) !== Object.prototype) problems.push('the row is not a plain object');
  for (const [name, value] of Object.entries(row)) {
    const column = columns.get(name);
    if (column === undefined) {
      problems.push(`undeclared column ${JSON.stringify(name).slice(0, 40)}`);
      continue;
    }
    const mismatch = typeMismatch(column.type, value);
    if (mismatch !== undefined) problems.push(`${name}: ${column.type} expected, got ${mismatch}`);
    const bytes =
      typeof value === 'string' ? utf8Length(value) : typeof value === 'object' ? jsonBytes(value) : 0;
    if (bytes > MAX_FIELD_BYTES) problems.push(`${name}: ${bytes} bytes, over 64 KB`);
    if (column.json === true && typeof value === 'string') {
      try {
        JSON.parse(value);
      } catch {
        problems.push(`${name}: not JSON text`);
      }
    }
  }
  const time = row.TimeGenerated;
  if (typeof time !== 'string' || !isIsoDateTime(time))
    problems.push('TimeGenerated is not an ISO 8601 instant');
  const total = jsonBytes(row);
  if (total > MAX_ROW_BYTES) problems.push(`row of ${total} bytes, over ${MAX_ROW_BYTES}`);
  return problems;
}

/** A refusal a caller can act on: a one-line reason, and a field path (or '' for the whole item). */
export function refusalProblems(field: string, reason: string): string[] {
  const problems: string[] = [];
  if (reason.trim() === '') problems.push('empty reason');
  if (/[\r\n]/.test(reason)) problems.push('the reason spans lines');
  if (field !== '' && !/^[A-Za-z][\w-]*(\.[A-Za-z_][\w-]*|\[\d+\])*$/.test(field)) {
    problems.push(`field is not a path: ${JSON.stringify(field).slice(0, 80)}`);
  }
  return problems;
}

type Frame = { readonly text: string } | { readonly value: unknown };

/**
 * The JSON text of a parsed JSON value, like `JSON.stringify` but without recursion, so that values nested
 * thousands deep (which `JSON.stringify` overflows the stack on) can be compared too.
 */
export function jsonText(value: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [{ value }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if ('text' in frame) {
      out.push(frame.text);
      continue;
    }
    const v = frame.value;
    if (Array.isArray(v)) {
      stack.push({ text: ']' });
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push({ value: v[i] });
        if (i > 0) stack.push({ text: ',' });
      }
      stack.push({ text: '[' });
    } else if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      stack.push({ text: '}' });
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i] as [string, unknown];
        stack.push({ value: item });
        stack.push({ text: `${JSON.stringify(key)}:` });
        if (i > 0) stack.push({ text: ',' });
      }
      stack.push({ text: '{' });
    } else {
      out.push(JSON.stringify(v) ?? 'null');
    }
  }
  return out.join('');
}
