/**
 * Timestamps as AWS sends them, normalised to the instant Log Analytics stores.
 *
 * Accepted: ISO 8601 with `T`, optional fraction, `Z` or `±HH:MM` (what GuardDuty and CloudTrail send), and
 * `YYYY-MM-DD HH:MM:SS[.fff]` without a zone, taken as UTC (exports of some pipelines), and the basic
 * format `YYYYMMDDTHHMMSSZ` (AWS documentation examples of session creation dates). Anything else is
 * refused rather than guessed: a wrong `TimeGenerated` silently moves a row out of every rule's window.
 */
/** ISO 8601 basic format, as some AWS documentation examples show session creation dates: 20131102T010628Z. */
const ISO_8601_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$/i;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two decimal digits at `at`, or -1. */
function digits2(v: string, at: number): number {
  const a = v.charCodeAt(at) - 48;
  const b = v.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * Epoch milliseconds of the form GuardDuty and CloudTrail send almost always, `2026-07-22T18:47:17.000Z` or
 * without the fraction, checked character by character with calendar bounds (2026-02-31 and 24:00 are
 * refused), without regexes or Date parsing: this runs several times for every event forwarded.
 * Undefined for anything else (the general parser then decides).
 */
function canonicalMs(v: string): number | undefined {
  const length = v.length;
  if (length !== 24 && length !== 20) return undefined;
  if (
    v.charCodeAt(4) !== 45 || // -
    v.charCodeAt(7) !== 45 ||
    v.charCodeAt(10) !== 84 || // T
    v.charCodeAt(13) !== 58 || // :
    v.charCodeAt(16) !== 58 ||
    v.charCodeAt(length - 1) !== 90 || // Z
    (length === 24 && v.charCodeAt(19) !== 46) // .
  )
    return undefined;
  const century = digits2(v, 0);
  const yy = digits2(v, 2);
  const month = digits2(v, 5);
  const day = digits2(v, 8);
  const hour = digits2(v, 11);
  const minute = digits2(v, 14);
  const second = digits2(v, 17);
  const msHigh = length === 24 ? digits2(v, 20) : 0;
  const msLow = length === 24 ? v.charCodeAt(22) - 48 : 0;
  if (century < 10 || yy < 0 || msHigh < 0 || msLow < 0 || msLow > 9) return undefined;
  const year = century * 100 + yy;
  if (month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
    return undefined;
  if (second < 0 || second > 59) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (day > days) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, msHigh * 10 + msLow);
}

export function parseAwsTimestamp(value: string): Date | undefined {
  const canonical = canonicalMs(value);
  if (canonical !== undefined) return new Date(canonical);
  const basic = ISO_8601_BASIC.exec(value);
  if (basic)
    return parseAwsTimestamp(`${basic[1]}-${basic[2]}-${basic[3]}T${basic[4]}:${basic[5]}:${basic[6]}Z`);
  const m = ISO_8601.exec(value);
  if (!m) return undefined;
  const rawZone = m[8];
  const zone = rawZone && rawZone.length === 5 ? `${rawZone.slice(0, 3)}:${rawZone.slice(3)}` : rawZone;
  // A 'T' form without a zone is ambiguous in ECMAScript (local time); AWS always sends UTC.
  const normalised = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${(m[7] ?? '').slice(0, 4)}${zone ?? 'Z'}`;
  // Reject calendar overflow such as 2026-02-31 or 24:00, which Date would roll over, whatever the zone.
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(
    Number,
  ) as number[];
  const wall = new Date(Date.UTC(year ?? 0, (month ?? 0) - 1, day, hour, minute, second));
  if (
    wall.getUTCFullYear() !== year ||
    wall.getUTCMonth() + 1 !== month ||
    wall.getUTCDate() !== day ||
    wall.getUTCHours() !== hour ||
    wall.getUTCMinutes() !== minute ||
    wall.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  const date = new Date(normalised);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function toIsoInstant(value: string): string | undefined {
  if (canonicalMs(value) !== undefined) return value.length === 24 ? value : `${value.slice(0, 19)}.000Z`;
  return parseAwsTimestamp(value)?.toISOString();
}
