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

export function parseAwsTimestamp(value: string): Date | undefined {
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
  return parseAwsTimestamp(value)?.toISOString();
}
