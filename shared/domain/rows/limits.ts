import type { ColumnDefinition } from '../tables/columns.js';
import type { Row } from './row.js';

/**
 * Logs Ingestion API limits that a row must respect (DESIGN section 5):
 * - a field value over 64 KB is truncated by the service (silently, and a truncated JSON value stops being
 *   JSON); we trim first, deterministically, with a visible marker;
 * - a request over 1 MB is refused with 413, and a record the SDK cannot fit into one request would be
 *   refused forever; we keep every row well below that so no record can cause a 413 loop.
 */
export const MAX_FIELD_BYTES = 64 * 1024;
/** Room for the JSON array brackets and the SDK's chunking threshold (1,000,000 bytes of JSON). */
export const MAX_ROW_BYTES = 900_000;
/** Shortest a trimmed string leaf is cut to while shrinking a dynamic value. */
const MIN_LEAF_BYTES = 1024;

export const TRUNCATION_MARKER = '…[truncated by aws-sentinel-bridge]';

/** UTF-8 length of a string without allocating (lone surrogates count as 3 bytes, as TextEncoder writes them). */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Cuts `s` so that it plus the marker fits in `maxBytes` of UTF-8, never splitting a surrogate pair. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (utf8Length(s) <= maxBytes) return s;
  const budget = Math.max(0, maxBytes - utf8Length(TRUNCATION_MARKER));
  let bytes = 0;
  let end = 0;
  while (end < s.length) {
    const code = s.charCodeAt(end);
    const pair = code >= 0xd800 && code <= 0xdbff && end + 1 < s.length;
    const width = pair ? 4 : code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    if (bytes + width > budget) break;
    bytes += width;
    end += pair ? 2 : 1;
  }
  return s.slice(0, end) + TRUNCATION_MARKER;
}

function jsonBytes(value: unknown): number {
  return utf8Length(JSON.stringify(value));
}

interface Leaf {
  parent: Record<string, unknown> | unknown[];
  key: string | number;
  bytes: number;
}

function collectStringLeaves(value: unknown, out: Leaf[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      if (typeof item === 'string') out.push({ parent: value, key: index, bytes: utf8Length(item) });
      else collectStringLeaves(item, out);
    });
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const [key, item] of Object.entries(record)) {
      if (typeof item === 'string') out.push({ parent: record, key, bytes: utf8Length(item) });
      else collectStringLeaves(item, out);
    }
  }
}

function collectArrays(value: unknown, out: unknown[][]): void {
  if (Array.isArray(value)) {
    out.push(value);
    for (const item of value) collectArrays(item, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) collectArrays(item, out);
  }
}

/**
 * Shrinks a JSON value (a dynamic column) to at most `maxBytes` of JSON text, keeping its structure so that
 * rules reading e.g. `ResourceDetails.instanceDetails.instanceId` still work: first the longest strings are
 * cut (with the marker), then the longest arrays lose their tail (a marker element says how many went), and
 * only if that is not enough the value becomes `{ truncated, originalBytes, preview }`. Deterministic: the
 * same input always gives the same output. Works on a deep copy; the input is not modified.
 */
export function shrinkJsonValue(value: unknown, maxBytes: number): unknown {
  const originalBytes = jsonBytes(value);
  if (originalBytes <= maxBytes) return value;
  const copy = structuredClone(value) as unknown;
  let size = originalBytes;

  const leaves: Leaf[] = [];
  collectStringLeaves(copy, leaves);
  leaves.sort((a, b) => b.bytes - a.bytes || String(a.key).localeCompare(String(b.key)));
  for (const leaf of leaves) {
    if (size <= maxBytes || leaf.bytes <= MIN_LEAF_BYTES) break;
    const current = (leaf.parent as Record<string | number, unknown>)[leaf.key] as string;
    const target = Math.max(MIN_LEAF_BYTES, leaf.bytes - (size - maxBytes));
    (leaf.parent as Record<string | number, unknown>)[leaf.key] = truncateUtf8(current, target);
    size = jsonBytes(copy);
  }

  if (size > maxBytes) {
    const arrays: unknown[][] = [];
    collectArrays(copy, arrays);
    arrays.sort((a, b) => b.length - a.length);
    for (const array of arrays) {
      while (size > maxBytes && array.length > 2) {
        const keep = Math.floor((array.length - 1) / 2);
        const dropped = array.length - keep;
        array.splice(keep, array.length - keep, `${TRUNCATION_MARKER} ${dropped} more items`);
        size = jsonBytes(copy);
        if (keep <= 1) break;
      }
      if (size <= maxBytes) break;
    }
  }

  if (size > maxBytes) {
    const preview = truncateUtf8(JSON.stringify(copy), Math.floor(maxBytes / 2));
    return { truncated: true, originalBytes, preview };
  }
  return copy;
}

export interface LimitResult {
  row: Row;
  /** Columns whose values were trimmed, in the order they were trimmed. */
  trimmed: string[];
}

/**
 * Applies the field and record limits to a row built by a normaliser (the row is modified in place).
 * `sourceTextLength` (the length of the JSON text the record was parsed from, when known) lets the common
 * small record skip measuring its dynamic values: a value parsed out of N characters of JSON re-serialises to
 * at most N characters.
 */
export function applyIngestionLimits(
  row: Row,
  columns: readonly ColumnDefinition[],
  sourceTextLength?: number,
): LimitResult {
  const trimmed: string[] = [];
  const dynamicIsSmall = sourceTextLength !== undefined && sourceTextLength * 3 <= MAX_FIELD_BYTES;
  // An upper bound of the row's JSON size: 6 bytes per string character covers escapes and UTF-8.
  let upperBound = 2;
  for (const column of columns) {
    const value = row[column.name];
    if (value === undefined) continue;
    upperBound += column.name.length + 4;
    if (typeof value === 'string') {
      let text = value;
      if (text.length * 3 > MAX_FIELD_BYTES && utf8Length(text) > MAX_FIELD_BYTES) {
        text = truncateUtf8(text, MAX_FIELD_BYTES);
        row[column.name] = text;
        trimmed.push(column.name);
      }
      upperBound += text.length * 6;
    } else if (typeof value === 'object') {
      if (dynamicIsSmall) {
        upperBound += (sourceTextLength ?? 0) * 3;
        continue;
      }
      let bytes = jsonBytes(value);
      if (bytes > MAX_FIELD_BYTES) {
        const shrunk = shrinkJsonValue(value, MAX_FIELD_BYTES) as object;
        row[column.name] = shrunk;
        bytes = jsonBytes(shrunk);
        trimmed.push(column.name);
      }
      upperBound += bytes;
    } else {
      upperBound += 32;
    }
  }
  if (upperBound > MAX_ROW_BYTES) shrinkRow(row, trimmed);
  return { row, trimmed };
}

/** Cuts the largest values of a row, largest first, until its JSON fits in `MAX_ROW_BYTES`. */
function shrinkRow(row: Row, trimmed: string[]): void {
  let total = jsonBytes(row);
  for (let pass = 0; total > MAX_ROW_BYTES && pass < 100; pass++) {
    let largest: { name: string; bytes: number } | undefined;
    for (const [name, value] of Object.entries(row)) {
      if (typeof value !== 'string' && typeof value !== 'object') continue;
      const bytes = jsonBytes(value);
      if (bytes > MIN_LEAF_BYTES && (!largest || bytes > largest.bytes)) largest = { name, bytes };
    }
    if (!largest) break;
    const value = row[largest.name];
    const keep = Math.max(
      MIN_LEAF_BYTES,
      Math.floor(largest.bytes * (1 - (total - MAX_ROW_BYTES) / largest.bytes)) - 64,
    );
    if (typeof value === 'string') {
      // JSON escapes can make the value longer than its UTF-8 text: scale the cut by that ratio.
      const ratio = largest.bytes / Math.max(1, utf8Length(value));
      row[largest.name] = truncateUtf8(value, Math.max(MIN_LEAF_BYTES, Math.floor(keep / ratio)));
    } else if (value !== undefined) {
      row[largest.name] = shrinkJsonValue(value, keep) as object;
    }
    if (!trimmed.includes(largest.name)) trimmed.push(largest.name);
    total = jsonBytes(row);
  }
}
