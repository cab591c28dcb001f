import * as z from 'zod';
import { BridgeError } from '../errors.js';

/**
 * A streaming splitter for CloudTrail trail files: `{"Records":[{...},{...}]}`, tens of MB once gunzipped
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html).
 *
 * It follows the JSON structure byte by byte (strings and their escapes, `{}`/`[]` nesting) to find each element
 * of the top-level `Records` array, and hands each back as its own text with its byte range in the uncompressed
 * file. Only the element being read is buffered, never the file; an element over `maxRecordBytes` is reported
 * as an error slice (its bytes are dropped as they arrive) and splitting goes on with the next one. Chunks may
 * end anywhere, inside a multi-byte UTF-8 character too: elements are cut on bytes and decoded whole.
 *
 * The end of a finished element is a safe place to stop: `resumePointAfter(slice)` is a small JSON object that
 * a later invocation passes back to carry on from the next element.
 *
 * It checks structure, not every value: elements are delimited, not parsed (the caller parses each one, which
 * also catches a bad number or escape inside it), and the values of other top-level keys are skipped by their
 * structure. A file that is not `{"Records":[...]}` (a digest file, JSON lines, an array, gzip, ...) throws a
 * `RecordsStreamError` saying what was seen.
 */

export const DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;
/** How much of an oversize element is kept, to say which record it was. */
const PREVIEW_BYTES = 256;
/** Top-level keys longer than this are not `Records` and are not kept. */
const MAX_KEY_BYTES = 1024;
/** Deeper nesting is refused: the bracket stack is bounded, like the buffer. */
export const MAX_NESTING = 512;

/** What went wrong. */
export type RecordsStreamErrorCode =
  /** The file is not an object with `Records`; `content` says what it is. */
  | 'not-a-records-file'
  /** `Records` is there but is not an array. */
  | 'records-not-array'
  /** A byte that breaks the JSON structure (mismatched bracket, missing colon or comma, nesting too deep). */
  | 'syntax'
  /** The input ended inside the structure (records delivered so far are still good). */
  | 'truncated'
  /** Something other than whitespace follows the top-level object. */
  | 'trailing-content'
  /** The resume point does not fit this file (not at a record boundary, or past its end). */
  | 'resume-mismatch'
  /** The resume point is not one this splitter produced. */
  | 'invalid-resume'
  /** `push` after `end`. */
  | 'invalid-use';

/** What kind of content the splitter saw, so the caller can tell a digest file to skip from a broken log file. */
export type RecordsStreamContent =
  | 'records-file'
  | 'empty'
  | 'gzip'
  | 'parquet'
  | 'json-array'
  | 'json-value'
  | 'not-json'
  | 'cloudtrail-digest'
  | 'cloudtrail-event'
  | 'json-lines'
  | 'json-object';

/** The file (or the way it is fed) cannot be split; permanent: the same bytes fail the same way. */
export class RecordsStreamError extends BridgeError {
  readonly retryable = false;
  constructor(
    readonly code: RecordsStreamErrorCode,
    readonly content: RecordsStreamContent,
    /** Byte offset in the uncompressed file where the problem was found. */
    readonly offset: number,
    message: string,
  ) {
    super(message.length > 480 ? `${message.slice(0, 479)}…` : message);
  }
}

interface SliceRange {
  /** Position of the element in the `Records` array, from 0 (error slices count too). */
  readonly index: number;
  /** Byte offset of the element's first byte in the whole uncompressed file. */
  readonly start: number;
  /** Byte offset just after the element's last byte: a safe resume point (see `resumePointAfter`). */
  readonly end: number;
}

/** One element of `Records`, as its own JSON text (not parsed). */
export interface RecordText extends SliceRange {
  readonly ok: true;
  readonly text: string;
}

/** An element that is delimited but not handed over: too large to buffer, or not valid UTF-8. */
export interface RecordError extends SliceRange {
  readonly ok: false;
  readonly reason: 'too-large' | 'invalid-utf8';
  /** Size in bytes (`end - start`). */
  readonly size: number;
  /** The first bytes, decoded leniently, to identify the record in a dead letter. */
  readonly preview: string;
}

export type RecordSlice = RecordText | RecordError;

export const recordsResumePointSchema = z.strictObject({
  /** Offset in the uncompressed file of the next byte to read. */
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  state: z.strictObject({
    v: z.literal(1),
    /**
     * Inside `Records`, nesting depth 1: `comma-or-end` right after an element (the next byte is whitespace,
     * `,` or `]`), `record` right after a comma (the next value is an element).
     */
    expect: z.enum(['comma-or-end', 'record']),
    /** Index the next element will have. */
    nextIndex: z.number().int().min(0),
  }),
});

export type RecordsResumePoint = z.infer<typeof recordsResumePointSchema>;

/** Where to carry on so that the next slice is the element after `slice`. */
export function resumePointAfter(slice: Pick<SliceRange, 'index' | 'end'>): RecordsResumePoint {
  return { offset: slice.end, state: { v: 1, expect: 'comma-or-end', nextIndex: slice.index + 1 } };
}

export interface RecordsSplitterOptions {
  /** Carry on from a point that `resumePointAfter` gave. */
  readonly resume?: RecordsResumePoint;
  /**
   * With `resume`: `whole-file` (default) if the bytes pushed start at the beginning of the file (the splitter
   * drops those before the offset without reading them), `from-offset` if the first byte pushed is the one at
   * the offset.
   */
  readonly input?: 'whole-file' | 'from-offset';
  /** Elements larger than this become `too-large` error slices. */
  readonly maxRecordBytes?: number;
}

export interface RecordsSplitter {
  /** Feeds the next bytes; returns the elements that end in them, in order. Throws `RecordsStreamError`. */
  push(chunk: Uint8Array): RecordSlice[];
  /** Ends the input; throws `RecordsStreamError` unless the file was complete. */
  end(): RecordSlice[];
  /** Bytes of the file accounted for so far, i.e. the offset of the next byte to push. */
  readonly bytesRead: number;
}

// Phases of the top-level structure.
const P_START = 0; // before the top-level value
const P_ROOT_FIRST = 1; // after `{`: a key or `}`
const P_ROOT_KEY = 2; // inside a top-level key
const P_ROOT_COLON = 3;
const P_ROOT_VALUE = 4; // after `:`
const P_ROOT_SKIP = 5; // inside the value of a key other than Records
const P_ROOT_NEXT = 6; // after a top-level value: `,` or `}`
const P_ROOT_KEY_AFTER_COMMA = 7;
const P_RECORDS_FIRST = 8; // after `Records: [`: an element or `]`
const P_RECORDS_ELEMENT = 9; // after a comma inside Records: an element
const P_IN_ELEMENT = 10;
const P_RECORDS_NEXT = 11; // after an element: `,` or `]`
const P_AFTER_ROOT = 12;
const P_NOT_RECORDS = 13; // the file does not start with `{`: collecting its first bytes to say what it is
/** How many bytes of a file that is not an object are looked at to say what it is. */
const HEAD_BYTES = 64;

// Scanner modes for a value.
const M_NESTED = 1; // an object, an array or a string (the string case ends at depth 0)
const M_PRIMITIVE = 2; // a number or literal: ends at the next delimiter

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** 1 for the bytes that matter outside strings: `"`, `{`, `}`, `[`, `]`. */
const STRUCTURAL = new Uint8Array(256);
for (const b of [QUOTE, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET]) STRUCTURAL[b] = 1;

const DIGEST_KEYS = new Set([
  'digestStartTime',
  'digestEndTime',
  'digestS3Bucket',
  'digestS3Object',
  'digestPublicKeyFingerprint',
  'digestSignatureAlgorithm',
  'previousDigestSignature',
]);
const EVENT_KEYS = ['eventName', 'eventSource', 'eventID', 'eventTime'];
const MAX_LISTED_KEYS = 8;

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function isPrimitiveStart(b: number): boolean {
  return b === 0x2d || (b >= 0x30 && b <= 0x39) || b === 0x74 || b === 0x66 || b === 0x6e;
}

function beginsValue(b: number): boolean {
  return b === OPEN_BRACE || b === OPEN_BRACKET || b === QUOTE || isPrimitiveStart(b);
}

/** A byte as it would read in a message: `'x'`, or `0x1f` when not printable ASCII. */
function showByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `0x${b.toString(16).padStart(2, '0')}`;
}

/** Up to 24 bytes as printable ASCII with `\xNN` for the rest, for a message. */
function showBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes.subarray(0, 24)) {
    out +=
      b >= 0x20 && b < 0x7f && b !== BACKSLASH
        ? String.fromCharCode(b)
        : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

function describeValueStart(b: number): string {
  if (b === OPEN_BRACE) return 'an object';
  if (b === QUOTE) return 'a string';
  if (b === 0x6e) return 'null';
  if (b === 0x74 || b === 0x66) return 'a boolean';
  if (isPrimitiveStart(b)) return 'a number';
  return `not a JSON value (byte ${showByte(b)})`;
}

function listKeys(keys: readonly string[], total: number): string {
  const shown = keys.map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k)).join(', ');
  return total > keys.length ? `${shown}, …` : shown;
}

/** What a top-level object without `Records` looks like. */
function describeObject(
  keys: readonly string[],
  total: number,
): { content: RecordsStreamContent; seen: string } {
  if (keys.includes('eventVersion') && EVENT_KEYS.some((k) => keys.includes(k))) {
    return {
      content: 'cloudtrail-event',
      seen: `a single CloudTrail event (keys ${listKeys(keys, total)}), not a log file with Records`,
    };
  }
  if (total === 0) return { content: 'json-object', seen: 'an empty JSON object' };
  return { content: 'json-object', seen: `a JSON object without Records (keys ${listKeys(keys, total)})` };
}

/** What a file that does not start with `{` is. */
function describeStart(rest: Uint8Array): { content: RecordsStreamContent; seen: string } {
  const b = rest[0] ?? 0;
  if (b === 0x1f && (rest.length < 2 || rest[1] === 0x8b)) {
    return { content: 'gzip', seen: 'gzip-compressed data (decompress it first)' };
  }
  if (rest.length >= 4 && rest[0] === 0x50 && rest[1] === 0x41 && rest[2] === 0x52 && rest[3] === 0x31) {
    return { content: 'parquet', seen: 'an Apache Parquet file' };
  }
  if (b === OPEN_BRACKET) return { content: 'json-array', seen: 'a JSON array' };
  if (b === QUOTE || (isPrimitiveStart(b) && looksLikeScalar(rest))) {
    return { content: 'json-value', seen: `a JSON ${describeValueStart(b).replace(/^an? /, '')} value` };
  }
  return { content: 'not-json', seen: `content that is not JSON (it starts with "${showBytes(rest)}")` };
}

/** A number or literal alone on its first line (not text that starts with a digit, like a flow log line). */
function looksLikeScalar(bytes: Uint8Array): boolean {
  const newline = bytes.indexOf(0x0a);
  const line = bytes.subarray(0, Math.min(newline === -1 ? bytes.length : newline, 64));
  try {
    JSON.parse(new TextDecoder('utf-8').decode(line));
    return true;
  } catch {
    return false;
  }
}

/** Joins the buffered parts of an element and its last piece. */
function concat(parts: readonly Uint8Array[], last: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  out.set(last, at);
  return out;
}

function previewOf(parts: readonly Uint8Array[], last: Uint8Array): string {
  const bytes = new Uint8Array(PREVIEW_BYTES);
  let at = 0;
  for (const part of [...parts, last]) {
    if (at >= PREVIEW_BYTES) break;
    const piece = part.subarray(0, PREVIEW_BYTES - at);
    bytes.set(piece, at);
    at += piece.length;
  }
  // `stream: true` leaves out a character cut at the end of the preview instead of showing U+FFFD.
  return new TextDecoder('utf-8').decode(bytes.subarray(0, at), { stream: true });
}

function parseOptions(options: RecordsSplitterOptions): {
  resume: RecordsResumePoint | undefined;
  fromOffset: boolean;
  maxRecordBytes: number;
} {
  const max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (!Number.isInteger(max) || max < 1) {
    throw new RecordsStreamError(
      'invalid-use',
      'records-file',
      0,
      'maxRecordBytes must be a positive integer',
    );
  }
  if (options.resume === undefined) return { resume: undefined, fromOffset: false, maxRecordBytes: max };
  const parsed = recordsResumePointSchema.safeParse(options.resume);
  if (!parsed.success) {
    throw new RecordsStreamError(
      'invalid-resume',
      'records-file',
      0,
      'the resume point is not one the records splitter produced (expected { offset, state: { v: 1, expect, nextIndex } })',
    );
  }
  return { resume: parsed.data, fromOffset: options.input === 'from-offset', maxRecordBytes: max };
}

export function createRecordsSplitter(options: RecordsSplitterOptions = {}): RecordsSplitter {
  const { resume, fromOffset, maxRecordBytes } = parseOptions(options);
  const decoder = new TextDecoder('utf-8', { fatal: true });

  let phase = P_START;
  /** Absolute offset of `chunk[0]` while a chunk is read; of the next byte between pushes. */
  let base = 0;
  /** Bytes still to drop before the resume offset. */
  let skip = 0;
  /** The first structural byte after a resume must fit the resumed state. */
  let resumed = false;
  let failure: RecordsStreamError | undefined;
  let ended = false;

  // Value scanner.
  const stack = new Uint8Array(MAX_NESTING);
  let depth = 0;
  let inString = false;
  let escaped = false;
  let mode = M_NESTED;

  // Current element.
  let nextIndex = 0;
  let elementStart = 0;
  /** Index in the current chunk where the current element's bytes start (0 when it began in an earlier chunk). */
  let captureFrom = 0;
  let parts: Uint8Array[] = [];
  let partsBytes = 0;
  let oversize = false;
  let preview = '';

  // Top-level object.
  let recordsSeen = false;
  const keyBytes = new Uint8Array(MAX_KEY_BYTES);
  let keyLength = 0;
  let keyEscaped = false;
  let keyStart = 0;
  let currentKey: string | undefined;
  const rootKeys: string[] = [];
  let rootKeyCount = 0;
  let rootEnd = 0;
  const head = new Uint8Array(HEAD_BYTES);
  let headLength = 0;
  let headStart = 0;

  if (resume) {
    phase = resume.state.expect === 'record' ? P_RECORDS_ELEMENT : P_RECORDS_NEXT;
    nextIndex = resume.state.nextIndex;
    recordsSeen = true;
    resumed = true;
    if (fromOffset) base = resume.offset;
    else skip = resume.offset;
  }

  const fail = (
    code: RecordsStreamErrorCode,
    content: RecordsStreamContent,
    offset: number,
    message: string,
  ): RecordsStreamError => new RecordsStreamError(code, content, offset, message);

  const syntax = (offset: number, message: string): RecordsStreamError =>
    fail('syntax', 'records-file', offset, `${message} at byte ${offset}`);

  /**
   * Scans the current value from `chunk[i]`; returns the index just after its end, or -1 if the chunk ends first.
   * The hot loop. A plain byte loop beats `indexOf` here: CloudTrail strings are short (about 10 bytes).
   */
  function scan(chunk: Uint8Array, i: number, n: number): number {
    if (mode === M_PRIMITIVE) {
      while (i < n) {
        const b = chunk[i] ?? 0;
        if (b === COMMA || b === CLOSE_BRACKET || b === CLOSE_BRACE || isWhitespace(b)) return i;
        i++;
      }
      return -1;
    }
    let d = depth;
    let str = inString;
    if (escaped) {
      // The chunk before ended on a backslash inside a string: this byte is escaped.
      escaped = false;
      i++;
    }
    while (i < n) {
      if (str) {
        let b = chunk[i] ?? 0;
        while (b !== QUOTE) {
          i += b === BACKSLASH ? 2 : 1;
          if (i >= n) break;
          b = chunk[i] ?? 0;
        }
        if (i >= n) {
          // `i === n + 1`: the chunk ends on a backslash, the escaped byte comes next.
          escaped = i > n;
          break;
        }
        str = false;
        i++;
        if (d === 0) {
          inString = false;
          return i;
        }
        continue;
      }
      const b = chunk[i] ?? 0;
      if (STRUCTURAL[b] === 0) {
        i++;
        continue;
      }
      if (b === QUOTE) {
        str = true;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        if (d === MAX_NESTING) throw syntax(base + i, `nesting deeper than ${MAX_NESTING} levels`);
        stack[d] = b;
        d++;
      } else {
        // `}` is `{` + 2 and `]` is `[` + 2.
        if (d === 0 || stack[d - 1] !== b - 2) {
          throw syntax(base + i, `unexpected ${showByte(b)} (mismatched bracket)`);
        }
        d--;
        if (d === 0) {
          depth = 0;
          inString = false;
          return i + 1;
        }
      }
      i++;
    }
    depth = d;
    inString = str;
    return -1;
  }

  /** Starts scanning a value whose first byte is `chunk[i]`; returns where scanning goes on. */
  function beginValue(b: number, i: number, where: string): number {
    inString = false;
    escaped = false;
    depth = 0;
    if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      mode = M_NESTED;
      stack[0] = b;
      depth = 1;
      return i + 1;
    }
    if (b === QUOTE) {
      mode = M_NESTED;
      inString = true;
      return i + 1;
    }
    if (isPrimitiveStart(b)) {
      mode = M_PRIMITIVE;
      return i;
    }
    throw syntax(base + i, `unexpected ${showByte(b)} ${where}`);
  }

  function beginElement(b: number, i: number): number {
    elementStart = base + i;
    captureFrom = i;
    parts = [];
    partsBytes = 0;
    oversize = false;
    preview = '';
    phase = P_IN_ELEMENT;
    return beginValue(b, i, 'where a record should start in Records');
  }

  /** The chunk ends inside the element: keep its bytes (a copy, the caller may reuse the chunk) or drop them. */
  function carryElement(chunk: Uint8Array, from: number, n: number): void {
    const piece = chunk.subarray(from, n);
    if (!oversize && partsBytes + piece.length > maxRecordBytes) {
      preview = previewOf(parts, piece);
      parts = [];
      oversize = true;
    }
    if (!oversize) parts.push(piece.slice());
    partsBytes += piece.length;
  }

  function finishElement(chunk: Uint8Array, from: number, to: number, out: RecordSlice[]): void {
    const last = chunk.subarray(from, to);
    const size = partsBytes + last.length;
    const range = { index: nextIndex, start: elementStart, end: base + to };
    nextIndex++;
    if (oversize || size > maxRecordBytes) {
      out.push({
        ...range,
        ok: false,
        reason: 'too-large',
        size,
        preview: oversize ? preview : previewOf([], last),
      });
    } else {
      const bytes = parts.length === 0 ? last : concat(parts, last, size);
      try {
        out.push({ ...range, ok: true, text: decoder.decode(bytes) });
      } catch {
        out.push({ ...range, ok: false, reason: 'invalid-utf8', size, preview: previewOf([], bytes) });
      }
    }
    parts = [];
    partsBytes = 0;
    oversize = false;
    preview = '';
  }

  /** Scans a top-level key; returns where scanning goes on. */
  function scanKey(chunk: Uint8Array, i: number, n: number): number {
    while (i < n) {
      const b = chunk[i] ?? 0;
      if (keyEscaped) keyEscaped = false;
      else if (b === BACKSLASH) keyEscaped = true;
      else if (b === QUOTE) {
        finishKey();
        phase = P_ROOT_COLON;
        return i + 1;
      }
      if (keyLength < MAX_KEY_BYTES) keyBytes[keyLength] = b;
      keyLength++;
      i++;
    }
    return n;
  }

  function finishKey(): void {
    currentKey = undefined;
    let shown = '(a key longer than 1 KiB)';
    if (keyLength <= MAX_KEY_BYTES) {
      try {
        const key: unknown = JSON.parse(`"${decoder.decode(keyBytes.subarray(0, keyLength))}"`);
        if (typeof key === 'string') {
          currentKey = key;
          shown = key;
        }
      } catch {
        throw syntax(keyStart, 'a top-level key that is not a valid JSON string');
      }
    }
    rootKeyCount++;
    if (rootKeys.length < MAX_LISTED_KEYS) rootKeys.push(shown);
    if (!recordsSeen && currentKey !== undefined && DIGEST_KEYS.has(currentKey)) {
      throw fail(
        'not-a-records-file',
        'cloudtrail-digest',
        keyStart,
        `a CloudTrail digest file (keys ${listKeys(rootKeys, rootKeyCount)}), not a log file with Records`,
      );
    }
  }

  function beginKey(i: number): number {
    keyLength = 0;
    keyEscaped = false;
    keyStart = base + i;
    phase = P_ROOT_KEY;
    return i + 1;
  }

  function closeRoot(i: number): number {
    rootEnd = base + i;
    phase = P_AFTER_ROOT;
    return i + 1;
  }

  function notRecords(): RecordsStreamError {
    const { content, seen } = describeStart(head.subarray(0, headLength));
    return fail(
      'not-a-records-file',
      content,
      headStart,
      `${seen}, not a CloudTrail log file {"Records":[...]}`,
    );
  }

  /** A byte that is not whitespace, outside any value being scanned. Returns where scanning goes on. */
  function structural(b: number, i: number): number {
    if (resumed) {
      resumed = false;
      const fits = phase === P_RECORDS_NEXT ? b === COMMA || b === CLOSE_BRACKET : beginsValue(b);
      if (!fits) {
        throw fail(
          'resume-mismatch',
          'records-file',
          base + i,
          `the byte at the resume point (offset ${base + i}) is ${showByte(b)}, which cannot follow a record in Records: the offset is not a record boundary of this file`,
        );
      }
    }
    switch (phase) {
      case P_START:
        if (b === OPEN_BRACE) {
          phase = P_ROOT_FIRST;
          return i + 1;
        }
        phase = P_NOT_RECORDS;
        headStart = base + i;
        return i;
      case P_ROOT_FIRST:
        if (b === QUOTE) return beginKey(i);
        if (b === CLOSE_BRACE) return closeRoot(i);
        throw syntax(base + i, `unexpected ${showByte(b)} where a key or } should follow {`);
      case P_ROOT_COLON:
        if (b === COLON) {
          phase = P_ROOT_VALUE;
          return i + 1;
        }
        throw syntax(base + i, `unexpected ${showByte(b)} where : should follow a key`);
      case P_ROOT_VALUE:
        if (currentKey === 'Records') {
          if (recordsSeen) throw syntax(base + i, 'a second Records key');
          if (b !== OPEN_BRACKET) {
            throw fail(
              'records-not-array',
              'records-file',
              base + i,
              `Records is ${describeValueStart(b)}, not an array, at byte ${base + i}`,
            );
          }
          recordsSeen = true;
          phase = P_RECORDS_FIRST;
          return i + 1;
        }
        phase = P_ROOT_SKIP;
        return beginValue(b, i, 'where a value should follow :');
      case P_ROOT_NEXT:
        if (b === COMMA) {
          phase = P_ROOT_KEY_AFTER_COMMA;
          return i + 1;
        }
        if (b === CLOSE_BRACE) return closeRoot(i);
        throw syntax(base + i, `unexpected ${showByte(b)} where , or } should follow a value`);
      case P_ROOT_KEY_AFTER_COMMA:
        if (b === QUOTE) return beginKey(i);
        throw syntax(base + i, `unexpected ${showByte(b)} where a key should follow ,`);
      case P_RECORDS_FIRST:
        if (b === CLOSE_BRACKET) {
          phase = P_ROOT_NEXT;
          return i + 1;
        }
        return beginElement(b, i);
      case P_RECORDS_ELEMENT:
        if (b === CLOSE_BRACKET) throw syntax(base + i, 'a trailing comma in Records');
        return beginElement(b, i);
      case P_RECORDS_NEXT:
        if (b === COMMA) {
          phase = P_RECORDS_ELEMENT;
          return i + 1;
        }
        if (b === CLOSE_BRACKET) {
          phase = P_ROOT_NEXT;
          return i + 1;
        }
        throw syntax(
          base + i,
          `unexpected ${showByte(b)} where , or ] should follow record ${nextIndex - 1}`,
        );
      default: {
        // P_AFTER_ROOT
        if (recordsSeen) {
          throw fail(
            'trailing-content',
            b === OPEN_BRACE ? 'json-lines' : 'records-file',
            base + i,
            `${b === OPEN_BRACE ? 'another JSON object' : `unexpected ${showByte(b)}`} after the top-level object (which ended at byte ${rootEnd}), at byte ${base + i}`,
          );
        }
        const first = describeObject(rootKeys, rootKeyCount);
        if (b === OPEN_BRACE) {
          const events = first.content === 'cloudtrail-event' ? ' (CloudTrail events, one per object)' : '';
          throw fail(
            'not-a-records-file',
            'json-lines',
            base + i,
            `JSON lines${events}: a second top-level object at byte ${base + i}, the first with keys ${listKeys(rootKeys, rootKeyCount)}; not a CloudTrail log file {"Records":[...]}`,
          );
        }
        throw fail(
          'not-a-records-file',
          first.content,
          base + i,
          `${first.seen}, followed by ${showByte(b)} at byte ${base + i}`,
        );
      }
    }
  }

  function push(chunk: Uint8Array): RecordSlice[] {
    if (failure) throw failure;
    if (ended) throw fail('invalid-use', 'records-file', base, 'push() after end()');
    const out: RecordSlice[] = [];
    const n = chunk.length;
    let i = 0;
    if (skip > 0) {
      i = Math.min(skip, n);
      skip -= i;
    }
    captureFrom = 0;
    try {
      while (i < n) {
        if (phase === P_IN_ELEMENT) {
          const j = scan(chunk, i, n);
          if (j === -1) {
            i = n;
          } else {
            finishElement(chunk, captureFrom, j, out);
            phase = P_RECORDS_NEXT;
            i = j;
          }
        } else if (phase === P_ROOT_SKIP) {
          const j = scan(chunk, i, n);
          if (j === -1) i = n;
          else {
            phase = P_ROOT_NEXT;
            i = j;
          }
        } else if (phase === P_ROOT_KEY) {
          i = scanKey(chunk, i, n);
        } else if (phase === P_NOT_RECORDS) {
          const piece = chunk.subarray(i, i + HEAD_BYTES - headLength);
          head.set(piece, headLength);
          headLength += piece.length;
          i += piece.length;
          if (headLength === HEAD_BYTES) throw notRecords();
        } else {
          const b = chunk[i] ?? 0;
          i = isWhitespace(b) ? i + 1 : structural(b, i);
        }
      }
      // The chunk ends inside an element (possibly right after its first byte).
      if (phase === P_IN_ELEMENT) carryElement(chunk, captureFrom, n);
    } catch (error) {
      if (!(error instanceof RecordsStreamError)) throw error;
      failure = error;
      throw error;
    }
    base += n;
    return out;
  }

  function end(): RecordSlice[] {
    if (failure) throw failure;
    if (ended) return [];
    ended = true;
    if (skip > 0) {
      failure = fail(
        'resume-mismatch',
        'records-file',
        base,
        `the file ends at byte ${base}, before the resume offset ${base + skip}`,
      );
      throw failure;
    }
    if (phase === P_AFTER_ROOT && recordsSeen) return [];
    if (phase === P_NOT_RECORDS) {
      failure = notRecords();
      throw failure;
    }
    if (phase === P_AFTER_ROOT) {
      const { content, seen } = describeObject(rootKeys, rootKeyCount);
      failure = fail(
        'not-a-records-file',
        content,
        rootEnd,
        `${seen}, not a CloudTrail log file {"Records":[...]}`,
      );
    } else if (phase === P_START) {
      failure = fail(
        'not-a-records-file',
        'empty',
        base,
        base === 0 ? 'an empty file' : 'a file of whitespace only',
      );
    } else if (phase === P_IN_ELEMENT) {
      failure = fail(
        'truncated',
        'records-file',
        base,
        `the file ends at byte ${base} inside record ${nextIndex} (which starts at byte ${elementStart})`,
      );
    } else if (phase >= P_RECORDS_FIRST) {
      failure = fail(
        'truncated',
        'records-file',
        base,
        `the file ends at byte ${base} ${nextIndex === 0 ? 'before any record' : `after record ${nextIndex - 1}`}, before Records is closed`,
      );
    } else {
      failure = fail(
        'truncated',
        recordsSeen ? 'records-file' : 'json-object',
        base,
        `the file ends at byte ${base} before the top-level object is closed`,
      );
    }
    throw failure;
  }

  return {
    push,
    end,
    get bytesRead() {
      return base;
    },
  };
}
