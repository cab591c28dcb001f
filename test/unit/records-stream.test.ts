import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  createRecordsSplitter,
  type RecordSlice,
  type RecordsResumePoint,
  type RecordsSplitterOptions,
  RecordsStreamError,
  resumePointAfter,
} from '../../shared/domain/cloudtrail/records-stream.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytesOf(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Feeds `bytes` in chunks of `size` bytes and collects every slice. */
function split(bytes: Uint8Array, size: number, options?: RecordsSplitterOptions): RecordSlice[] {
  const splitter = createRecordsSplitter(options);
  const out: RecordSlice[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...splitter.push(bytes.subarray(i, i + size)));
  out.push(...splitter.end());
  return out;
}

/** Feeds the chunks given, in order. */
function splitChunks(chunks: readonly Uint8Array[], options?: RecordsSplitterOptions): RecordSlice[] {
  const splitter = createRecordsSplitter(options);
  const out = chunks.flatMap((chunk) => splitter.push(chunk));
  out.push(...splitter.end());
  return out;
}

function texts(slices: readonly RecordSlice[]): string[] {
  return slices.map((slice) => {
    if (!slice.ok) throw new Error(`unexpected error slice ${slice.reason} at ${slice.start}`);
    return slice.text;
  });
}

function parsed(slices: readonly RecordSlice[]): unknown[] {
  return texts(slices).map((text) => JSON.parse(text));
}

function recordsOf(text: string): unknown[] {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || !('Records' in value) || !Array.isArray(value.Records)) {
    throw new Error('not a Records file');
  }
  return value.Records;
}

/** The error `run` throws, which must be a RecordsStreamError. */
function streamError(run: () => unknown): RecordsStreamError {
  try {
    run();
  } catch (error) {
    if (error instanceof RecordsStreamError) return error;
    throw error;
  }
  throw new Error('expected a RecordsStreamError');
}

/** The bare CloudTrail records of test/fixtures/cloudtrail (EventBridge envelopes unwrapped). */
function fixtureRecords(): unknown[] {
  const dir = join(FIXTURES, 'cloudtrail');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const value: unknown = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      return typeof value === 'object' && value !== null && 'detail' in value ? value.detail : value;
    });
}

/** Records whose strings hold everything that can confuse a byte-level scanner. */
const TRICKY_RECORDS: unknown[] = [
  { eventName: 'Quotes', note: 'a "quoted" word, \\"escaped\\" twice, and a lone \\' },
  { eventName: 'Brackets', note: ']} {[ ], "Records": [ }', nested: [[{ a: [] }], {}] },
  { eventName: 'Backslashes', path: 'C:\\temp\\', more: '\\\\', end: '\\' },
  { eventName: 'Unicode', value: 'Équipe 日本 🚀 \u2028 \u0000 \t', keyé: 'ü' },
  { eventName: 'Escapes', raw: '\b\f\n\r\t/\u001f' },
  { eventName: 'Empty', a: '', b: [], c: {}, d: null, e: 0, f: -1.5e-3, g: true },
];

/** A Records file in CloudTrail's compact form, with other keys around Records (one holding a decoy Records). */
function compactFile(records: readonly unknown[]): string {
  return `{"before":{"Records":[{"decoy":true}],"s":"]}"},"Records":${JSON.stringify(records)},"after":[1,"x",{"y":null}]}`;
}

/** The same file with whitespace everywhere JSON allows it. */
function spacedFile(records: readonly unknown[]): string {
  const body = records.map((r) => JSON.stringify(r, null, '\t')).join(' ,\r\n  ');
  return `\n \t{ "meta" : "x" ,\r\n "Records"\n:\n[ ${body} \n] , "n" : 12 \n}\n \n`;
}

describe('CloudTrail records splitter', () => {
  const cases: [string, string][] = [
    ['the fixture trail file', readFileSync(join(FIXTURES, 's3/cloudtrail-log-file.json'), 'utf8')],
    ['a compact file of the CloudTrail fixtures', compactFile(fixtureRecords())],
    ['a compact file of tricky records', compactFile(TRICKY_RECORDS)],
    ['a file with whitespace everywhere', spacedFile([...TRICKY_RECORDS, ...fixtureRecords().slice(0, 5)])],
  ];

  for (const [name, text] of cases) {
    it(`returns the same records as JSON.parse(file).Records for ${name}, whatever the chunk size`, () => {
      const bytes = bytesOf(text);
      const expected = recordsOf(text);
      for (const size of [1, 7, 4096, bytes.length]) {
        const slices = split(bytes, size);
        expect(parsed(slices)).toEqual(expected);
        expect(slices.map((s) => s.index)).toEqual(expected.map((_, i) => i));
        // Each text is exactly the bytes between start and end.
        for (const slice of slices) {
          expect(decoder.decode(bytes.subarray(slice.start, slice.end))).toBe(texts([slice])[0]);
        }
      }
    });
  }

  it('reads an empty Records array and a file without other keys', () => {
    expect(split(bytesOf('{"Records":[]}'), 1)).toEqual([]);
    expect(split(bytesOf('  {  "Records" : [ ] }  '), 3)).toEqual([]);
    expect(parsed(split(bytesOf('{"Records":[{}]}'), 2))).toEqual([{}]);
  });

  it('cuts multi-byte UTF-8 characters split between chunks back together', () => {
    const text = compactFile([{ v: 'é日🚀' }, { w: '🚀🚀' }, { x: 'ü"\\' }]);
    const bytes = bytesOf(text);
    const expected = recordsOf(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const slices = splitChunks([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(parsed(slices)).toEqual(expected);
    }
  });

  it('finds escaped quotes and backslashes wherever two chunks meet', () => {
    const text = `{"Records":[{"a":"\\\\"},{"b":"\\"]}"},{"c":"\\\\\\""},{"d":"x\\\\\\\\"}]}`;
    const bytes = bytesOf(text);
    const expected = recordsOf(text);
    expect(expected).toEqual([{ a: '\\' }, { b: '"]}' }, { c: '\\"' }, { d: 'x\\\\' }]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (let cut2 = cut; cut2 <= bytes.length; cut2 += 3) {
        const chunks = [bytes.subarray(0, cut), bytes.subarray(cut, cut2), bytes.subarray(cut2)];
        expect(parsed(splitChunks(chunks))).toEqual(expected);
      }
    }
  });

  it('copies bytes it keeps, so a caller may reuse its chunk buffer', () => {
    const bytes = bytesOf(compactFile([{ long: 'x'.repeat(50) }, { b: 2 }]));
    const splitter = createRecordsSplitter();
    const buffer = new Uint8Array(16);
    const out: RecordSlice[] = [];
    for (let i = 0; i < bytes.length; i += buffer.length) {
      const piece = bytes.subarray(i, i + buffer.length);
      buffer.set(piece);
      out.push(...splitter.push(buffer.subarray(0, piece.length)));
      buffer.fill(0x41);
    }
    out.push(...splitter.end());
    expect(parsed(out)).toEqual([{ long: 'x'.repeat(50) }, { b: 2 }]);
  });

  it('keeps elements that are not objects as their own text', () => {
    expect(texts(split(bytesOf('{"Records":[1, "two", null, true, -3.5e2, [4]]}'), 1))).toEqual([
      '1',
      '"two"',
      'null',
      'true',
      '-3.5e2',
      '[4]',
    ]);
  });

  it('counts the bytes read', () => {
    const splitter = createRecordsSplitter();
    splitter.push(bytesOf('{"Records":['));
    expect(splitter.bytesRead).toBe(12);
    splitter.push(bytesOf('{}]}'));
    expect(splitter.bytesRead).toBe(16);
  });

  it('matches JSON.parse on generated records and chunkings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()), { maxLength: 6 }),
        fc.integer({ min: 1, max: 64 }),
        (records, size) => {
          const text = compactFile(records);
          expect(parsed(split(bytesOf(text), size))).toEqual(recordsOf(text));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('resuming the records splitter', () => {
  const text = spacedFile([...TRICKY_RECORDS, ...fixtureRecords().slice(0, 4)]);
  const bytes = bytesOf(text);
  const all = split(bytes, 4096);

  it('reproduces the remaining records exactly from the end of every record', () => {
    for (const [k, slice] of all.entries()) {
      const resume: RecordsResumePoint = JSON.parse(JSON.stringify(resumePointAfter(slice)));
      const rest = all.slice(k + 1);
      for (const size of [1, 7, 4096]) {
        expect(split(bytes, size, { resume })).toEqual(rest);
        expect(split(bytes.subarray(resume.offset), size, { resume, input: 'from-offset' })).toEqual(rest);
      }
    }
  });

  it('resumes right after a comma too', () => {
    const first = all[0];
    if (!first) throw new Error('no records');
    const comma = bytes.indexOf(0x2c, first.end);
    const resume: RecordsResumePoint = { offset: comma + 1, state: { v: 1, expect: 'record', nextIndex: 1 } };
    expect(split(bytes, 7, { resume })).toEqual(all.slice(1));
  });

  it('refuses an offset that is not at a record boundary', () => {
    const second = all[1];
    if (!second) throw new Error('no records');
    const resume: RecordsResumePoint = {
      offset: second.start + 3,
      state: { v: 1, expect: 'comma-or-end', nextIndex: 2 },
    };
    const error = streamError(() => split(bytes, 64, { resume }));
    expect(error.code).toBe('resume-mismatch');
    expect(error.offset).toBeGreaterThanOrEqual(second.start + 3);
  });

  it('refuses an offset past the end of the file', () => {
    const resume: RecordsResumePoint = {
      offset: bytes.length + 10,
      state: { v: 1, expect: 'comma-or-end', nextIndex: 9 },
    };
    const error = streamError(() => split(bytes, 4096, { resume }));
    expect(error.code).toBe('resume-mismatch');
    expect(error.message).toContain('before the resume offset');
  });

  it('refuses a resume point it did not produce', () => {
    for (const resume of [
      { offset: -1, state: { v: 1, expect: 'comma-or-end', nextIndex: 0 } },
      { offset: 10, state: { v: 2, expect: 'comma-or-end', nextIndex: 0 } },
      { offset: 10, state: { v: 1, expect: 'somewhere', nextIndex: 0 } },
      { offset: 10 },
    ]) {
      const error = streamError(() =>
        createRecordsSplitter({ resume: resume as unknown as RecordsResumePoint }),
      );
      expect(error.code).toBe('invalid-resume');
    }
  });
});

describe('records splitter refusals', () => {
  function refusal(text: string | Uint8Array, size = 5): RecordsStreamError {
    return streamError(() => split(typeof text === 'string' ? bytesOf(text) : text, size));
  }

  it('names a CloudTrail digest file, as soon as it sees a digest key', () => {
    const digest = readFileSync(join(FIXTURES, 's3/cloudtrail-digest.json'));
    const splitter = createRecordsSplitter();
    const error = streamError(() => splitter.push(digest.subarray(0, 120)));
    expect(error).toMatchObject({
      name: 'RecordsStreamError',
      code: 'not-a-records-file',
      content: 'cloudtrail-digest',
    });
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('digest file');
    // The splitter stays failed.
    expect(() => splitter.push(digest.subarray(120))).toThrow(error);
  });

  it('names JSON lines of CloudTrail events', () => {
    const lines = fixtureRecords()
      .slice(0, 3)
      .map((r) => JSON.stringify(r))
      .join('\n');
    const error = refusal(lines, 4096);
    expect(error).toMatchObject({ code: 'not-a-records-file', content: 'json-lines' });
    expect(error.message).toContain('CloudTrail events');
  });

  it('names a single CloudTrail event, an empty or other object, an array, a scalar', () => {
    expect(refusal(JSON.stringify(fixtureRecords()[0]))).toMatchObject({ content: 'cloudtrail-event' });
    expect(refusal('{}')).toMatchObject({ code: 'not-a-records-file', content: 'json-object' });
    const other = refusal('{"logFiles":[],"x":{"Records":[]}}');
    expect(other).toMatchObject({ content: 'json-object' });
    expect(other.message).toContain('"logFiles", "x"');
    expect(refusal('[{"eventVersion":"1.08"}]')).toMatchObject({ content: 'json-array' });
    expect(refusal('"Records"')).toMatchObject({ content: 'json-value' });
    expect(refusal('42')).toMatchObject({ content: 'json-value' });
  });

  it('names empty input, gzip, Parquet and text that is not JSON', () => {
    expect(refusal('')).toMatchObject({ code: 'not-a-records-file', content: 'empty' });
    expect(refusal(' \n ')).toMatchObject({ content: 'empty' });
    expect(refusal(new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0]))).toMatchObject({ content: 'gzip' });
    expect(refusal(bytesOf('PAR1\u0015\u0004'))).toMatchObject({ content: 'parquet' });
    const text = refusal('2026-07-22 18:47:17 ACCEPT 10.0.0.1');
    expect(text).toMatchObject({ content: 'not-json' });
    expect(text.message).toContain('2026-07-22 18:47:17');
  });

  it('refuses Records that is not an array', () => {
    for (const value of ['{}', 'null', '"x"', '3']) {
      expect(refusal(`{"Records":${value}}`)).toMatchObject({ code: 'records-not-array' });
    }
  });

  it('refuses a truncated file after handing over the records it completed', () => {
    const text = compactFile(fixtureRecords().slice(0, 3));
    const bytes = bytesOf(text);
    const complete = split(bytes, 4096);
    for (const cut of [1, 5, 20, complete[1]?.start ?? 0, (complete[1]?.end ?? 0) + 1, bytes.length - 1]) {
      const splitter = createRecordsSplitter();
      const delivered = splitter.push(bytes.subarray(0, cut));
      expect(delivered).toEqual(complete.filter((s) => s.end <= cut));
      expect(streamError(() => splitter.end())).toMatchObject({ code: 'truncated' });
    }
  });

  it('refuses content after the top-level object', () => {
    expect(refusal('{"Records":[]} x')).toMatchObject({ code: 'trailing-content' });
    expect(refusal('{"Records":[]}\n{"Records":[]}')).toMatchObject({
      code: 'trailing-content',
      content: 'json-lines',
    });
  });

  it('refuses broken structure', () => {
    for (const text of [
      '{"Records":[{"a":[}]}',
      '{"Records":[{"a":1}}]}',
      '{"Records":[{} {}]}',
      '{"Records":[{},]}',
      '{"Records" [1]}',
      '{"Records":[],}',
      '{"a":1 "Records":[]}',
      '{"Records":[x]}',
      '{"a":}',
      `{"Records":[${'['.repeat(600)}${']'.repeat(600)}]}`,
    ]) {
      expect(refusal(text, 3)).toMatchObject({ name: 'RecordsStreamError', code: 'syntax' });
    }
  });

  it('refuses pushes after end', () => {
    const splitter = createRecordsSplitter();
    splitter.push(bytesOf('{"Records":[]}'));
    expect(splitter.end()).toEqual([]);
    expect(streamError(() => splitter.push(bytesOf(' ')))).toMatchObject({ code: 'invalid-use' });
  });
});

describe('records splitter error slices', () => {
  const small = { eventName: 'Small', n: 1 };
  const large = { eventName: 'Large', eventID: 'big-1', blob: 'é'.repeat(300) };
  const text = compactFile([small, large, small, large, small]);
  const bytes = bytesOf(text);

  it('reports a record over the size limit as an error slice and goes on with the next', () => {
    for (const size of [1, 7, 64, 4096, bytes.length]) {
      const slices = split(bytes, size, { maxRecordBytes: 200 });
      expect(slices.map((s) => (s.ok ? 'ok' : s.reason))).toEqual([
        'ok',
        'too-large',
        'ok',
        'too-large',
        'ok',
      ]);
      expect(parsed(slices.filter((s) => s.ok))).toEqual([small, small, small]);
      const tooLarge = slices[1];
      if (!tooLarge || tooLarge.ok) throw new Error('expected an error slice');
      expect(tooLarge.index).toBe(1);
      expect(tooLarge.size).toBe(bytesOf(JSON.stringify(large)).length);
      expect(tooLarge.end - tooLarge.start).toBe(tooLarge.size);
      expect(tooLarge.preview.startsWith('{"eventName":"Large","eventID":"big-1"')).toBe(true);
      expect(tooLarge.preview).not.toContain('\uFFFD');
    }
  });

  it('gives the same slices as without a limit when every record fits', () => {
    expect(split(bytes, 7, { maxRecordBytes: 1000 })).toEqual(split(bytes, 7));
  });

  it('reports a record that is not valid UTF-8 as an error slice and goes on', () => {
    const head = bytesOf('{"Records":[{"a":"');
    const tail = bytesOf('"},{"b":1}]}');
    const bad = new Uint8Array([...head, 0xc3, 0x28, ...tail]);
    for (const size of [1, 4096]) {
      const slices = split(bad, size);
      expect(slices.map((s) => (s.ok ? 'ok' : s.reason))).toEqual(['invalid-utf8', 'ok']);
      expect(parsed(slices.slice(1))).toEqual([{ b: 1 }]);
    }
  });
});
