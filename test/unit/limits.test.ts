import { describe, expect, it } from '@jest/globals';
import {
  applyIngestionLimits,
  MAX_FIELD_BYTES,
  MAX_ROW_BYTES,
  shrinkJsonValue,
  TRUNCATION_MARKER,
  truncateUtf8,
  utf8Length,
} from '../../shared/domain/rows/limits.js';
import type { Row } from '../../shared/domain/rows/row.js';
import { AWS_CLOUDTRAIL, AWS_GUARDDUTY } from '../../shared/domain/tables/columns.js';

const bytesOf = (value: unknown): number =>
  Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value));

describe('UTF-8 measuring and cutting', () => {
  it('measures like Buffer.byteLength, including astral characters', () => {
    for (const s of ['plain', 'é', '€uro', '😀 smile', 'a\u0000b', ''])
      expect(utf8Length(s)).toBe(Buffer.byteLength(s));
  });

  it('cuts to the byte budget with the marker and never splits a surrogate pair', () => {
    const text = '😀'.repeat(50_000);
    const cut = truncateUtf8(text, 1000);
    expect(utf8Length(cut)).toBeLessThanOrEqual(1000);
    expect(cut.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(cut.slice(0, -TRUNCATION_MARKER.length)).toMatch(/^(😀)+$/u);
  });

  it('leaves a value that fits untouched', () => {
    expect(truncateUtf8('short', 100)).toBe('short');
  });
});

describe('dynamic values over 64 KB', () => {
  it('keeps the structure and the small fields rules read while cutting the large ones', () => {
    const value = {
      resourceType: 'Instance',
      instanceDetails: { instanceId: 'i-0abc', userData: 'x'.repeat(200_000) },
    };
    const shrunk = shrinkJsonValue(value, MAX_FIELD_BYTES) as typeof value;
    expect(bytesOf(shrunk)).toBeLessThanOrEqual(MAX_FIELD_BYTES);
    expect(shrunk.instanceDetails.instanceId).toBe('i-0abc');
    expect(shrunk.instanceDetails.userData.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(value.instanceDetails.userData).toHaveLength(200_000);
  });

  it('cuts long arrays of small items, saying how many went', () => {
    const value = { items: Array.from({ length: 20_000 }, (_, i) => ({ n: i })) };
    const shrunk = shrinkJsonValue(value, MAX_FIELD_BYTES) as { items: unknown[] };
    expect(bytesOf(shrunk)).toBeLessThanOrEqual(MAX_FIELD_BYTES);
    expect(shrunk.items[0]).toEqual({ n: 0 });
    expect(String(shrunk.items.at(-1))).toMatch(/more items$/);
  });

  it('is deterministic', () => {
    const value = { a: 'y'.repeat(100_000), b: Array.from({ length: 5000 }, (_, i) => `item-${i}`) };
    expect(JSON.stringify(shrinkJsonValue(value, 10_000))).toBe(
      JSON.stringify(shrinkJsonValue(value, 10_000)),
    );
  });
});

describe('row limits', () => {
  it('trims a string column over 64 KB and names it', () => {
    const row = {
      TimeGenerated: '2026-01-01T00:00:00.000Z',
      RequestParameters: 'p'.repeat(100_000),
      EventName: 'CreateUser',
    };
    const { row: out, trimmed } = applyIngestionLimits(row, AWS_CLOUDTRAIL.columns);
    expect(trimmed).toEqual(['RequestParameters']);
    expect(utf8Length(String(out.RequestParameters))).toBeLessThanOrEqual(MAX_FIELD_BYTES);
    expect(out.EventName).toBe('CreateUser');
  });

  it('keeps a row with many near-limit fields under the request limit', () => {
    const row: Record<string, string> = {};
    for (const column of AWS_CLOUDTRAIL.columns) row[column.name] = '"'.repeat(60_000);
    const { row: out, trimmed } = applyIngestionLimits(row, AWS_CLOUDTRAIL.columns);
    expect(bytesOf(out)).toBeLessThanOrEqual(MAX_ROW_BYTES);
    expect(trimmed.length).toBeGreaterThan(0);
  });

  it('does not touch a small GuardDuty row and reports its exact size', () => {
    const row = { Id: 'f1', ResourceDetails: { resourceType: 'Instance' }, ServiceDetails: { count: 1 } };
    const copy = structuredClone(row);
    expect(applyIngestionLimits(row, AWS_GUARDDUTY.columns)).toEqual({
      row: copy,
      trimmed: [],
      json: JSON.stringify(copy),
      bytes: bytesOf(copy),
    });
  });

  it('returns the JSON text of a trimmed row, equal to the row it returns', () => {
    const row: Row = {
      Id: 'f1',
      Description: 'é'.repeat(70_000),
      ServiceDetails: { note: '"'.repeat(70_000) },
    };
    const { row: out, json, bytes } = applyIngestionLimits(row, AWS_GUARDDUTY.columns);
    expect(json).toBe(JSON.stringify(out));
    expect(bytes).toBe(new TextEncoder().encode(json).length);
  });

  it('counts UTF-8 bytes exactly for long and short strings, lone surrogates as 3 bytes', () => {
    for (const s of ['', 'abc', 'é€😀', '\ud800x', `${'x'.repeat(300_000)}😀\udc00`, 'é'.repeat(262_144)])
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
  });

  it('measures dynamic values exactly: numbers that re-serialise longer are still trimmed', () => {
    // 1e20 is 4 characters in the source and 21 once serialised.
    const service = { numbers: Array.from({ length: 4000 }, () => 1e20) };
    const row = { Id: 'f1', ServiceDetails: service };
    const { row: out, trimmed, bytes } = applyIngestionLimits(row, AWS_GUARDDUTY.columns);
    expect(trimmed).toEqual(['ServiceDetails']);
    expect(bytesOf(out.ServiceDetails)).toBeLessThanOrEqual(MAX_FIELD_BYTES);
    expect(bytes).toBe(bytesOf(out));
  });

  it('trims JSON-text columns inside their JSON so parse_json still works', () => {
    const parameters = {
      policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
      padding: 'p'.repeat(200_000),
    };
    const row = { EventName: 'AttachUserPolicy', RequestParameters: JSON.stringify(parameters) };
    const { row: out, trimmed } = applyIngestionLimits(row, AWS_CLOUDTRAIL.columns);
    expect(trimmed).toEqual(['RequestParameters']);
    const parsed = JSON.parse(String(out.RequestParameters)) as typeof parameters;
    expect(parsed.policyArn).toBe(parameters.policyArn);
    expect(parsed.padding.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(utf8Length(String(out.RequestParameters))).toBeLessThanOrEqual(MAX_FIELD_BYTES);
  });

  it('shrinks a 1 MB finding quickly (no re-serialisation per cut)', () => {
    const value = { items: Array.from({ length: 1000 }, (_, i) => ({ id: i, text: 't'.repeat(1000 + i) })) };
    const shrunk = shrinkJsonValue(value, MAX_FIELD_BYTES);
    expect(bytesOf(shrunk)).toBeLessThanOrEqual(MAX_FIELD_BYTES);
  });

  it('throws RangeError for a value nested too deeply to serialise, for the caller to refuse', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 20_000; i++) deep = { d: deep };
    expect(() =>
      applyIngestionLimits({ Id: 'x', ServiceDetails: deep as object }, AWS_GUARDDUTY.columns),
    ).toThrow(RangeError);
  });
});

describe('lone surrogates', () => {
  it('cuts a string of lone high surrogates within the byte budget', () => {
    const cut = truncateUtf8('\ud800'.repeat(40_000), MAX_FIELD_BYTES);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_FIELD_BYTES);
  });
});

describe('the last-resort preview', () => {
  it('keeps an escape-heavy value within the limit once serialised', () => {
    // Quotes and backslashes double when the preview (JSON text) is escaped again inside the replacement. An
    // object of many short strings cannot be shrunk (short strings are not cut, objects keep their keys).
    const value = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, '"\\'.repeat(500)]));
    const out = shrinkJsonValue(value, MAX_FIELD_BYTES) as { truncated?: boolean; preview?: string };
    expect(out.truncated).toBe(true);
    expect(new TextEncoder().encode(JSON.stringify(out)).length).toBeLessThanOrEqual(MAX_FIELD_BYTES);
  });
});
