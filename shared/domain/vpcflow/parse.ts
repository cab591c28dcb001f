/**
 * VPC flow log records (plain text, as delivered to S3) -> `AWSVPCFlow` rows.
 *
 * A flow log file starts with a header line naming its fields (the flow log's format); every other line is
 * one record, its values separated by single spaces in the same order. `parseFlowLogHeader` reads the header
 * once per file and precomputes a column plan; `normaliseFlowLogLine` then turns each record into a row in
 * one walk along the line and the plan. This runs on hundreds of millions of lines: on the common path there
 * is no regular expression, no split, and no allocation beyond the row and its string values (numbers are
 * read in place; instants are built once per minute and memoised per position).
 *
 * Rules:
 * - `-` (not applicable to this record) leaves the column absent;
 * - integers are digits only (no sign, no fraction), within the range of their kind (see `fields.ts`);
 * - `start` / `end` are unix seconds, sent as ISO 8601 instants `Start` / `End`; `TimeGenerated` is `start`;
 * - NODATA and SKIPDATA records are kept (with `LogStatus` and the fields they have, mostly `-`);
 * - runs of spaces, tabs and a trailing `\r` (a CRLF file) are tolerated, on a slower path.
 * A refused line names the flow log field at fault (or `''` when the line as a whole is wrong) and says why.
 */
import type { Row } from '../rows/row.js';
import { flowLogField, TIME_GENERATED_FIELD } from './fields.js';

// What `normaliseFlowLogLine` does with the value at a position of the format.
const STRING = 0;
const INT = 1;
const LONG = 2;
const SECONDS = 3;
/** The `start` field: already converted for `TimeGenerated`, stored again as `Start`. */
const TIME = 4;
/** A field without an AWSVPCFlow column (known but dropped, or unknown to this version). */
const DROP = 5;

const INT32_MAX = 2_147_483_647;
/** 9999-12-31T23:59:59Z: the last second an ISO 8601 instant with a 4-digit year can show. */
const MAX_UNIX_SECONDS = 253_402_300_799;
const INVALID = -1;
const TOO_LARGE = -2;

/** '00' to '99'. */
const PAD2: readonly string[] = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

const FIELD_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const WHITESPACE = /\s+/;

/** The column plan of one format. Internal to this module; built by `parseFlowLogHeader`. */
export interface FlowLogPlan {
  readonly count: number;
  readonly kinds: Uint8Array;
  /** Column per position; `''` where the value is dropped. */
  readonly columns: readonly string[];
  readonly timeIndex: number;
  /** Last unix seconds converted at each position, and its ISO instant: consecutive records often share them. */
  readonly lastSeconds: Float64Array;
  readonly lastIso: string[];
  /** Last minute (unix seconds / 60) seen at each position and its ISO prefix `YYYY-MM-DDTHH:MM:`. */
  readonly lastMinute: Float64Array;
  readonly minutePrefix: string[];
}

export interface FlowLogFormat {
  /** Field names in header order, normalised (hyphenated, lower case). */
  readonly fields: readonly string[];
  /** Known flow log fields `AWSVPCFlow` has no column for (e.g. `reject-reason`): parsed, then dropped. */
  readonly dropped: readonly string[];
  /** Names this version does not know (a newer flow log version): kept in place, then dropped. */
  readonly unknown: readonly string[];
  /** How each position is read; also holds the instants memo (a cache: results never depend on it). */
  readonly plan: FlowLogPlan;
}

export type FlowLogHeaderOutcome = { ok: true; format: FlowLogFormat } | { ok: false; reason: string };

export type FlowLogLineOutcome =
  | { ok: true; row: Row }
  | { ok: false; line: number; field: string; reason: string };

/** `${version}` (a flow log's `LogFormat`) and `log_status` (Parquet column names) read as `log-status`. */
function normaliseFieldName(token: string): string {
  const bare = token.startsWith('${') && token.endsWith('}') ? token.slice(2, -1) : token;
  return bare.toLowerCase().replaceAll('_', '-');
}

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/**
 * Reads the header line of a flow log file: the field names, separated by spaces (the default format is
 * `DEFAULT_FLOW_LOG_HEADER`). Names this version does not know are kept in place and dropped, so that a
 * newer flow log version keeps flowing; a header is refused when it has a token that cannot be a field name,
 * a duplicate, none of the known fields (it is not a header), or no `start` (nothing to take `TimeGenerated` from).
 */
export function parseFlowLogHeader(line: string): FlowLogHeaderOutcome {
  const text = line.trim();
  if (text === '')
    return { ok: false, reason: 'empty header line: expected field names such as "version account-id"' };
  const fields: string[] = [];
  const seen = new Set<string>();
  for (const token of text.split(WHITESPACE)) {
    const name = normaliseFieldName(token);
    if (!FIELD_NAME.test(name))
      return { ok: false, reason: `${quote(token)} is not a flow log field name (such as account-id)` };
    if (seen.has(name)) return { ok: false, reason: `duplicate field "${name}"` };
    seen.add(name);
    fields.push(name);
  }

  const kinds = new Uint8Array(fields.length);
  const columns: string[] = [];
  const dropped: string[] = [];
  const unknown: string[] = [];
  let timeIndex = -1;
  fields.forEach((name, index) => {
    const field = flowLogField(name);
    if (field === undefined) unknown.push(name);
    else if (field.column === undefined) dropped.push(name);
    const column = field?.column;
    columns.push(column ?? '');
    if (column === undefined) kinds[index] = DROP;
    else if (name === TIME_GENERATED_FIELD) {
      kinds[index] = TIME;
      timeIndex = index;
    } else if (field?.kind === 'int') kinds[index] = INT;
    else if (field?.kind === 'long') kinds[index] = LONG;
    else if (field?.kind === 'unix-seconds') kinds[index] = SECONDS;
    else kinds[index] = STRING;
  });
  if (unknown.length === fields.length)
    return {
      ok: false,
      reason: `not a flow log header: none of its ${fields.length} names is a flow log field (first: ${quote(fields[0] ?? '')})`,
    };
  if (timeIndex < 0)
    return {
      ok: false,
      reason: `the format has no "${TIME_GENERATED_FIELD}" field, which TimeGenerated is taken from`,
    };
  const plan: FlowLogPlan = {
    count: fields.length,
    kinds,
    columns,
    timeIndex,
    lastSeconds: new Float64Array(fields.length).fill(-1),
    lastIso: fields.map(() => ''),
    lastMinute: new Float64Array(fields.length).fill(-1),
    minutePrefix: fields.map(() => ''),
  };
  return { ok: true, format: { fields, dropped, unknown, plan } };
}

/**
 * The digits of `line` from `start` to `end` (exclusive) as a number; INVALID for anything else (a sign, a
 * fraction, letters), TOO_LARGE above `max`. Reads the line in place: no substring for numeric values.
 */
function parseDigits(line: string, start: number, end: number, max: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = line.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return INVALID;
    value = value * 10 + digit;
  }
  // Past 2^53 the sum is inexact, but it only grows: still above any `max` this module uses.
  return value > max ? TOO_LARGE : value;
}

function integerRefusal(text: string, code: number, max: number): string {
  if (code === INVALID) return `expected a non-negative integer (digits only), got ${quote(text)}`;
  return max === Number.MAX_SAFE_INTEGER
    ? `${quote(text)} is above 2^53 - 1, the largest integer sent exactly`
    : `${quote(text)} is above ${max}, the largest value of the column`;
}

function secondsRefusal(text: string, code: number): string {
  return code === INVALID
    ? `expected unix seconds (digits only), got ${quote(text)}`
    : `${quote(text)} unix seconds is after 9999-12-31T23:59:59Z`;
}

/**
 * The ISO instant of the unix seconds at `line[start, end)`, for position `index` of the plan; INVALID or
 * TOO_LARGE. Date#toISOString costs about a microsecond: it runs once per minute and position, the seconds
 * are appended, and a value equal to the previous one at the position is returned as is.
 */
function isoAt(plan: FlowLogPlan, index: number, line: string, start: number, end: number): string | number {
  const seconds = parseDigits(line, start, end, MAX_UNIX_SECONDS);
  if (seconds < 0) return seconds;
  const cached = plan.lastIso[index];
  if (plan.lastSeconds[index] === seconds && cached !== undefined) return cached;
  const minute = Math.floor(seconds / 60);
  let prefix = plan.minutePrefix[index] ?? '';
  if (plan.lastMinute[index] !== minute) {
    prefix = new Date(minute * 60_000).toISOString().slice(0, 17);
    plan.lastMinute[index] = minute;
    plan.minutePrefix[index] = prefix;
  }
  const iso = `${prefix}${PAD2[seconds - minute * 60] ?? ''}.000Z`;
  plan.lastSeconds[index] = seconds;
  plan.lastIso[index] = iso;
  return iso;
}

/** Runs of whitespace (tabs included) -> one space; leading and trailing whitespace (a CRLF's `\r`) removed. */
function tidy(line: string): string {
  const text = line.trim();
  return text === '' ? '' : text.split(WHITESPACE).join(' ');
}

/**
 * One flow log record -> one `AWSVPCFlow` row, or a refusal naming the field at fault. `lineNumber` (1-based,
 * the header being line 1) is echoed in the refusal. The row carries only `AWSVPCFlow` columns, never a
 * reserved one, and always `TimeGenerated` (first).
 */
export function normaliseFlowLogLine(
  format: FlowLogFormat,
  line: string,
  lineNumber: number,
): FlowLogLineOutcome {
  const last = line.charCodeAt(line.length - 1);
  // 13 = '\r' (CRLF files), 32 = ' '; tabs never appear in what AWS writes.
  if (last === 13 || last === 32 || line.charCodeAt(0) === 32 || line.indexOf('\t') !== -1)
    return scan(format, tidy(line), lineNumber, false);
  return scan(format, line, lineNumber, true);
}

/** Values of a tidy line: one space between values, none around. */
function valueCount(line: string): number {
  if (line === '') return 0;
  let count = 1;
  for (let i = line.indexOf(' '); i !== -1; i = line.indexOf(' ', i + 1)) count++;
  return count;
}

/** A refusal; when the line does not have as many values as the header, that is the one reported. */
function refuse(
  format: FlowLogFormat,
  line: string,
  lineNumber: number,
  field: string,
  reason: string,
): FlowLogLineOutcome {
  const count = valueCount(tidy(line));
  if (count !== format.plan.count)
    return {
      ok: false,
      line: lineNumber,
      field: '',
      reason:
        count === 0
          ? 'empty line'
          : `expected ${format.plan.count} space-separated values (as in the header), got ${count}`,
    };
  return { ok: false, line: lineNumber, field, reason };
}

/**
 * Walks the line once with `indexOf(' ')`, value by value along the plan. `retry`: on an empty value (a run of
 * spaces) tidy the line and walk it again.
 */
function scan(format: FlowLogFormat, line: string, lineNumber: number, retry: boolean): FlowLogLineOutcome {
  const plan = format.plan;
  const count = plan.count;
  const kinds = plan.kinds;
  const columns = plan.columns;
  const length = line.length;
  // TimeGenerated first in the row's key order; always set below (a format has `start`, and `-` is refused).
  const row: Row = { TimeGenerated: '' };
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos > length) return refuse(format, line, lineNumber, '', 'too few values');
    let end = line.indexOf(' ', pos);
    if (end === -1) end = length;
    if (end === pos) {
      if (retry) return scan(format, tidy(line), lineNumber, false);
      return refuse(format, line, lineNumber, '', 'empty value');
    }
    const kind = kinds[i];
    const absent = end - pos === 1 && line.charCodeAt(pos) === 45; // '-'
    if (kind !== DROP && !absent) {
      const column = columns[i] ?? '';
      switch (kind) {
        case STRING:
          row[column] = line.slice(pos, end);
          break;
        case INT:
        case LONG: {
          const max = kind === INT ? INT32_MAX : Number.MAX_SAFE_INTEGER;
          const n = parseDigits(line, pos, end, max);
          if (n < 0)
            return refuse(
              format,
              line,
              lineNumber,
              format.fields[i] ?? '',
              integerRefusal(line.slice(pos, end), n, max),
            );
          row[column] = n;
          break;
        }
        default: {
          // SECONDS and TIME.
          const iso = isoAt(plan, i, line, pos, end);
          if (typeof iso === 'number')
            return refuse(
              format,
              line,
              lineNumber,
              format.fields[i] ?? '',
              secondsRefusal(line.slice(pos, end), iso),
            );
          row[column] = iso;
          if (kind === TIME) row.TimeGenerated = iso;
        }
      }
    } else if (kind === TIME) {
      return refuse(
        format,
        line,
        lineNumber,
        TIME_GENERATED_FIELD,
        `"-": TimeGenerated is taken from ${TIME_GENERATED_FIELD}`,
      );
    }
    pos = end + 1;
  }
  if (pos <= length) return refuse(format, line, lineNumber, '', 'too many values');
  return { ok: true, row };
}

/** A stable name for one record in messages and dead letters: the S3 object key and the line number. */
export function flowLogRowId(key: string, lineNumber: number): string {
  return `${key}:${lineNumber}`;
}
