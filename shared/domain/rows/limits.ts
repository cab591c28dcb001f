import type { ColumnDefinition } from '../tables/columns.js';
import type { Row } from './row.js';

/**
 * Logs Ingestion API limits that a row must respect (DESIGN section 5):
 * - a field value over 64 KB is truncated by the service (silently, and a truncated JSON value stops being
 *   JSON); we trim first, deterministically, with a visible marker, keeping JSON valid;
 * - a request over 1 MB is refused with 413, and a record the SDK cannot fit into one request would be
 *   refused forever; we keep every row well below that so no record can cause a 413 loop.
 */
export const MAX_FIELD_BYTES = 64 * 1024;
/** Room for the JSON array brackets and the SDK's chunking threshold (1,000,000 bytes of JSON). */
export const MAX_ROW_BYTES = 900_000;
/** Shortest a trimmed string is cut to while shrinking a value. */
const MIN_LEAF_BYTES = 1024;

export const TRUNCATION_MARKER = '…[truncated by aws-sentinel-bridge]';

/** Strings up to this many UTF-16 units are measured by encoding into a scratch buffer (native, fast). */
const SCRATCH_UNITS = 256 * 1024;
const encoder = new TextEncoder();
let scratch: Uint8Array | undefined;

/**
 * UTF-8 length of a string (a lone surrogate counts 3 bytes, as TextEncoder writes it). Rows are measured on
 * the hot path of every upload: strings of up to 256 Ki units are encoded into one reused buffer, which is
 * several times faster than a JavaScript loop; longer ones are counted without allocating.
 */
export function utf8Length(s: string): number {
  if (s.length <= SCRATCH_UNITS) {
    scratch ??= new Uint8Array(SCRATCH_UNITS * 3);
    return encoder.encodeInto(s, scratch).written;
  }
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // 4 bytes for 2 UTF-16 units
        i++;
      } else bytes += 2;
    } else bytes += 2;
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
    const pair =
      code >= 0xd800 && code <= 0xdbff && end + 1 < s.length && (s.charCodeAt(end + 1) & 0xfc00) === 0xdc00;
    const width = pair ? 4 : code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    if (bytes + width > budget) break;
    bytes += width;
    end += pair ? 2 : 1;
  }
  return s.slice(0, end) + TRUNCATION_MARKER;
}

/** Bytes of the JSON text of a value. Throws RangeError for values nested too deeply to serialise. */
export function jsonBytes(value: unknown): number {
  return utf8Length(JSON.stringify(value) ?? '');
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
 * Shrinks a JSON value to at most `maxBytes` of JSON text, keeping its structure so that rules reading e.g.
 * `ResourceDetails.instanceDetails.instanceId` or `parse_json(RequestParameters).policyArn` still work:
 * first the longest strings are cut (with the marker), then the longest arrays lose their tail (a marker
 * element says how many went), and only if that is not enough the value becomes
 * `{ truncated, originalBytes, preview }`. Deterministic: the same input always gives the same output.
 * Works on a deep copy; the input is not modified.
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
    const slot = leaf.parent as Record<string | number, unknown>;
    const current = slot[leaf.key] as string;
    const cut = truncateUtf8(current, Math.max(MIN_LEAF_BYTES, leaf.bytes - (size - maxBytes)));
    slot[leaf.key] = cut;
    // Keep the running size exact without re-serialising the whole value: only this string changed.
    size += jsonBytes(cut) - jsonBytes(current);
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
    // The preview is JSON text inside JSON: its quotes and backslashes are escaped again, so cut it until the
    // whole replacement fits (each round cuts by the overshoot; escapes at most sextuple a character).
    const text = JSON.stringify(copy);
    let budget = Math.floor(maxBytes / 2);
    for (;;) {
      const replacement = { truncated: true, originalBytes, preview: truncateUtf8(text, budget) };
      const bytes = jsonBytes(replacement);
      if (bytes <= maxBytes || budget === 0) return replacement;
      budget = Math.max(0, budget - (bytes - maxBytes) - 16);
    }
  }
  return copy;
}

export interface LimitResult {
  row: Row;
  /** Columns whose values were trimmed, in the order they were trimmed. */
  trimmed: string[];
  /** The row's JSON text after trimming: what the upload sends, so the row is serialised only once. */
  json: string;
  /** Exact bytes of `json` in UTF-8 (what the upload measures). */
  bytes: number;
}

/** A row's JSON text and its UTF-8 size. Throws RangeError for values nested too deeply to serialise. */
function serialise(row: Row): { json: string; bytes: number } {
  const json = JSON.stringify(row);
  return { json, bytes: utf8Length(json) };
}

/** A value cut to `maxBytes`: JSON-text columns are shrunk inside their JSON, so they stay parseable. */
function cutValue(
  column: ColumnDefinition | undefined,
  value: string | object,
  maxBytes: number,
): string | object {
  if (typeof value === 'object') return shrinkJsonValue(value, maxBytes) as object;
  if (column?.json) {
    try {
      return JSON.stringify(shrinkJsonValue(JSON.parse(value), maxBytes));
    } catch {
      // Not JSON after all (a value we did not build): cut it as text.
    }
  }
  return truncateUtf8(value, maxBytes);
}

function valueBytes(value: string | object): number {
  return typeof value === 'string' ? utf8Length(value) : jsonBytes(value);
}

/**
 * Applies the field and record limits to a row built by a normaliser (the row is modified in place) and
 * returns its exact JSON size. The common small row costs one serialisation: a row of at most 64 KB cannot
 * hold a field over 64 KB. Throws RangeError for values nested too deeply to serialise.
 */
export function applyIngestionLimits(row: Row, columns: readonly ColumnDefinition[]): LimitResult {
  const first = serialise(row);
  if (first.bytes <= MAX_FIELD_BYTES) return { row, trimmed: [], ...first };

  const trimmed: string[] = [];
  const byName = new Map(columns.map((column) => [column.name, column]));
  const sizes = new Map<string, number>();
  for (const [name, value] of Object.entries(row)) {
    if (typeof value !== 'string' && typeof value !== 'object') continue;
    let size = valueBytes(value);
    if (size > MAX_FIELD_BYTES) {
      const cut = cutValue(byName.get(name), value, MAX_FIELD_BYTES);
      row[name] = cut;
      size = valueBytes(cut);
      trimmed.push(name);
    }
    sizes.set(name, size);
  }

  // A record can still exceed the request limit when many fields are near 64 KB (CloudTrail has 45
  // columns): cut the largest values, largest first, until the row fits.
  let total = trimmed.length === 0 ? first.bytes : jsonBytes(row);
  for (let pass = 0; total > MAX_ROW_BYTES && pass < 200; pass++) {
    let largest: [string, number] | undefined;
    for (const entry of sizes)
      if (entry[1] > MIN_LEAF_BYTES && (!largest || entry[1] > largest[1])) largest = entry;
    if (!largest) break;
    const [name, size] = largest;
    const value = row[name];
    if (typeof value !== 'string' && typeof value !== 'object') break;
    // JSON escapes can make a string longer in the row than in UTF-8: scale the cut by that ratio.
    const escapeRatio = typeof value === 'string' ? Math.max(1, jsonBytes(value) / Math.max(1, size)) : 1;
    const target = Math.max(MIN_LEAF_BYTES, Math.floor((size - (total - MAX_ROW_BYTES)) / escapeRatio) - 64);
    const cut = cutValue(byName.get(name), value, target);
    row[name] = cut;
    const after = valueBytes(cut);
    sizes.set(name, after >= size ? MIN_LEAF_BYTES : after);
    if (!trimmed.includes(name)) trimmed.push(name);
    total = jsonBytes(row);
  }
  const last = trimmed.length === 0 ? first : serialise(row);
  return { row, trimmed, ...last };
}
