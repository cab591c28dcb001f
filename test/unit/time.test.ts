import { describe, expect, it } from '@jest/globals';
import { parseAwsTimestamp, toIsoInstant } from '../../shared/domain/time.js';

describe('AWS timestamps', () => {
  it('keeps the instant of ISO 8601 timestamps with Z, offsets and fractions', () => {
    expect(toIsoInstant('2026-07-22T18:47:17Z')).toBe('2026-07-22T18:47:17.000Z');
    expect(toIsoInstant('2026-07-22T18:47:17.123456Z')).toBe('2026-07-22T18:47:17.123Z');
    expect(toIsoInstant('2026-07-22T20:47:17+02:00')).toBe('2026-07-22T18:47:17.000Z');
    expect(toIsoInstant('2026-07-22T20:47:17+0200')).toBe('2026-07-22T18:47:17.000Z');
  });

  it('reads space-separated timestamps without a zone as UTC, not local time', () => {
    expect(toIsoInstant('2025-02-25 20:40:06.721')).toBe('2025-02-25T20:40:06.721Z');
    expect(toIsoInstant('2025-02-25 20:40:06.000000000')).toBe('2025-02-25T20:40:06.000Z');
  });

  it('reads the ISO 8601 basic format of AWS documentation examples', () => {
    expect(toIsoInstant('20131102T010628Z')).toBe('2013-11-02T01:06:28.000Z');
  });

  it('refuses what it would have to guess', () => {
    for (const bad of [
      'yesterday',
      '2026-07-22',
      '1753210037',
      '2026-02-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '',
    ]) {
      expect(parseAwsTimestamp(bad)).toBeUndefined();
    }
  });

  it('reads the canonical forms exactly, leap days included, and agrees with Date on every day of four years', () => {
    expect(toIsoInstant('2024-02-29T23:59:59.999Z')).toBe('2024-02-29T23:59:59.999Z');
    expect(toIsoInstant('2000-02-29T00:00:00Z')).toBe('2000-02-29T00:00:00.000Z');
    expect(parseAwsTimestamp('2026-07-22T18:47:17.042Z')?.getTime()).toBe(
      Date.UTC(2026, 6, 22, 18, 47, 17, 42),
    );
    for (let t = Date.UTC(2023, 0, 1); t < Date.UTC(2027, 0, 1); t += 86_400_000 + 3_601_001) {
      const iso = new Date(t).toISOString();
      expect(parseAwsTimestamp(iso)?.getTime()).toBe(t);
      expect(toIsoInstant(`${iso.slice(0, 19)}Z`)).toBe(`${iso.slice(0, 19)}.000Z`);
    }
  });

  it('refuses calendar overflow and malformed digits in the canonical forms', () => {
    for (const bad of [
      '2026-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-07-22T24:00:00Z',
      '2026-07-22T23:60:00Z',
      '2026-07-22T23:59:60Z',
      '2026-00-10T00:00:00Z',
      '2026-07-00T00:00:00Z',
      '2026-07-22T18:47:1a.000Z',
      '2026-07-22T18:47:17.0a0Z',
      '2026-07-22X18:47:17.000Z',
      '2026/07/22T18:47:17.000Z',
    ]) {
      expect(parseAwsTimestamp(bad)).toBeUndefined();
      expect(toIsoInstant(bad)).toBeUndefined();
    }
  });
});
