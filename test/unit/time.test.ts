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
});
