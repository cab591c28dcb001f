import { once } from 'node:events';
import { constants, crc32, createGzip, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import {
  createDecoder,
  createGunzip,
  createPassThrough,
  detectEncoding,
  type GunzipCheckpoint,
  GunzipError,
  type GunzipErrorReason,
  parseStreamCheckpoint,
  type ResumableDecoder,
  resumeDecoder,
  resumeGunzip,
  type StreamCheckpoint,
} from '../../shared/streams/resumable-gunzip.js';

/** Deterministic pseudo-random numbers (mulberry32), so that a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function flowLogLines(bytes: number, seed = 1): Buffer {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const enis = Array.from(
    { length: 20 },
    () =>
      `eni-${int(2 ** 32)
        .toString(16)
        .padStart(8, '0')}123456789`,
  );
  const ip = () => `${int(3) === 0 ? '172.31' : `${int(224)}.${int(256)}`}.${int(256)}.${int(256)}`;
  const lines: string[] = [];
  let size = 0;
  let t = 1418530010;
  while (size < bytes) {
    t += int(3);
    const line =
      `2 123456789010 ${enis[int(enis.length)]} ${ip()} ${ip()} ${int(65536)} ${[22, 443, 53][int(3)]} ` +
      `${[6, 17][int(2)]} ${1 + int(100)} ${40 + int(100000)} ${t} ${t + 60} ${int(5) ? 'ACCEPT' : 'REJECT'} OK\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

function randomBytes(bytes: number, seed = 2): Buffer {
  const rnd = prng(seed);
  return Buffer.from(Array.from({ length: bytes }, () => Math.floor(rnd() * 256)));
}

/** Feeds `data` in chunks of `chunkSize` bytes, then ends; returns all output. */
function decode(reader: ResumableDecoder, data: Uint8Array, chunkSize = 64 * 1024): Buffer {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += chunkSize) out.push(...reader.push(data.subarray(i, i + chunkSize)));
  out.push(...reader.end());
  return Buffer.concat(out);
}

/** A copy of `data` with the bits of `mask` flipped in byte `at`. */
function flipped(data: Uint8Array, at: number, mask: number): Buffer {
  const copy = Buffer.from(data);
  copy[at] = (copy[at] ?? 0) ^ mask;
  return copy;
}

function roundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function gunzipError(run: () => unknown): GunzipError {
  try {
    run();
  } catch (error) {
    if (error instanceof GunzipError) return error;
    throw error;
  }
  throw new Error('expected a GunzipError');
}

/** The reason of the GunzipError that decoding `data` raises (in push or in end). */
function failureReason(data: Uint8Array, chunkSize = 4096): GunzipErrorReason {
  const error = gunzipError(() => decode(createGunzip(), data, chunkSize));
  expect(error.name).toBe('GunzipError');
  expect(error.retryable).toBe(false);
  return error.reason;
}

/** A gzip member written by hand, with the optional header fields Node's gzip never writes. */
function gzipWithHeaderFields(data: Buffer): Buffer {
  const header = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3]),
    Buffer.from([5, 0]),
    Buffer.from('extra'),
    Buffer.from('flow.log\0'),
    Buffer.from('a comment\0'),
  ]);
  const headerCrc = Buffer.alloc(2);
  headerCrc.writeUInt16LE(crc32(header) & 0xffff);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, headerCrc, deflateRawSync(data), trailer]);
}

/** A gzip stream flushed (Z_SYNC_FLUSH or Z_FULL_FLUSH) after every line, as streaming loggers write. */
async function flushedGzip(lines: string[], flush: number): Promise<Buffer> {
  const gzip = createGzip();
  const parts: Buffer[] = [];
  gzip.on('data', (part: Buffer) => parts.push(part));
  for (const line of lines) {
    gzip.write(line);
    await new Promise<void>((resolve) => gzip.flush(flush, () => resolve()));
  }
  gzip.end();
  await once(gzip, 'end');
  return Buffer.concat(parts);
}

const text = flowLogLines(1_500_000);
const small = flowLogLines(200_000, 7);
const binary = randomBytes(300_000);
const repetitive = Buffer.alloc(3_000_000, 'A');
const empty = Buffer.alloc(0);

const inputs: Array<[string, Buffer]> = [
  ['flow log text, level 1', gzipSync(text, { level: 1 })],
  ['flow log text, level 6', gzipSync(text, { level: 6 })],
  ['flow log text, level 9', gzipSync(text, { level: 9 })],
  ['flow log text, small blocks (memLevel 1)', gzipSync(small, { memLevel: 1 })],
  ['flow log text, fixed Huffman codes', gzipSync(small, { strategy: constants.Z_FIXED })],
  ['flow log text, Huffman only', gzipSync(small, { strategy: constants.Z_HUFFMAN_ONLY })],
  ['flow log text, run-length', gzipSync(small, { strategy: constants.Z_RLE })],
  ['flow log text, stored (level 0)', gzipSync(small, { level: 0 })],
  ['random binary', gzipSync(binary)],
  ['highly compressible', gzipSync(repetitive, { level: 9 })],
  ['an empty member', gzipSync(empty)],
  [
    'several members, one empty',
    Buffer.concat([gzipSync(small), gzipSync(empty), gzipSync(binary.subarray(0, 50_000)), gzipSync(text)]),
  ],
  ['header with extra field, name, comment and header CRC', gzipWithHeaderFields(small)],
];

describe('resumable gunzip: output', () => {
  it.each(inputs)('decodes %s exactly as zlib.gunzipSync does, whatever the chunk size', (_, data) => {
    const expected = gunzipSync(data);
    for (const chunkSize of [4096, 1_000_003, data.length + 1]) {
      expect(decode(createGunzip(), data, chunkSize).equals(expected)).toBe(true);
    }
  });

  it('decodes data pushed one byte at a time, headers and trailers split at every byte', () => {
    const data = Buffer.concat([
      gzipWithHeaderFields(small.subarray(0, 20_000)),
      gzipSync(binary.subarray(0, 5000)),
    ]);
    expect(decode(createGunzip(), data, 1).equals(gunzipSync(data))).toBe(true);
  });

  it('decodes streams flushed after every line (empty stored blocks between tiny blocks)', async () => {
    const lines = small
      .toString()
      .split(/(?<=\n)/)
      .slice(0, 300);
    for (const flush of [constants.Z_SYNC_FLUSH, constants.Z_FULL_FLUSH]) {
      const data = await flushedGzip(lines, flush);
      expect(decode(createGunzip({ checkpointInterval: 0 }), data, 97).toString()).toBe(lines.join(''));
    }
  });

  it('counts output and compressed offsets from the start of the object', () => {
    const data = Buffer.concat([gzipSync(small), gzipSync(binary)]);
    const reader = createGunzip();
    const out = decode(reader, data, 10_000);
    expect(reader.outputOffset).toBe(out.length);
    expect(reader.compressedOffset).toBe(data.length);
  });

  it('ignores zero padding after the last member, as gzip does', () => {
    const data = Buffer.concat([gzipSync(small), Buffer.alloc(1000)]);
    expect(decode(createGunzip(), data, 333).equals(small)).toBe(true);
  });
});

describe('resumable gunzip: checkpoints', () => {
  const resumable: Array<[string, Buffer]> = [
    ['small blocks', gzipSync(small, { memLevel: 2 })],
    [
      'fixed Huffman codes',
      gzipSync(small.subarray(0, 60_000), { strategy: constants.Z_FIXED, memLevel: 1 }),
    ],
    ['stored blocks of random binary', gzipSync(binary.subarray(0, 150_000), { memLevel: 4 })],
    [
      'several members',
      Buffer.concat([
        gzipSync(small.subarray(0, 50_000), { memLevel: 1 }),
        gzipSync(empty),
        gzipSync(binary.subarray(0, 40_000), { memLevel: 2 }),
        gzipWithHeaderFields(small.subarray(50_000, 90_000)),
      ]),
    ],
  ];

  it.each(resumable)(
    'resumes %s from every checkpoint, reading only the bytes from its offset on',
    (_, data) => {
      const expected = gunzipSync(data);
      const reader = createGunzip({ checkpointInterval: 0, maxCheckpoints: 1_000_000 });
      expect(decode(reader, data, 1000).equals(expected)).toBe(true);
      const checkpoints = reader.checkpoints().map(roundTrip);
      expect(checkpoints.length).toBeGreaterThan(20);
      let previous = -1;
      for (const checkpoint of checkpoints) {
        expect(checkpoint.compressedOffset).toBeGreaterThanOrEqual(previous);
        previous = checkpoint.compressedOffset;
        const rest = decode(resumeDecoder(checkpoint), data.subarray(checkpoint.compressedOffset), 777);
        expect(rest.equals(expected.subarray(checkpoint.outputOffset))).toBe(true);
      }
    },
  );

  it('resumes a larger object from checkpoints sampled all over it', () => {
    const data = gzipSync(text, { memLevel: 3 });
    const reader = createGunzip({ checkpointInterval: 0, maxCheckpoints: 1_000_000 });
    decode(reader, data);
    const all = reader.checkpoints();
    const rnd = prng(11);
    const sample = Array.from({ length: 60 }, () => all[Math.floor(rnd() * all.length)]);
    for (const checkpoint of sample.map(roundTrip)) {
      if (checkpoint === undefined) throw new Error('no checkpoint');
      const rest = decode(resumeDecoder(checkpoint), data.subarray(checkpoint.compressedOffset), 50_000);
      expect(rest.equals(text.subarray(checkpoint.outputOffset))).toBe(true);
    }
  });

  it('resumes from the checkpoints that a resumed reader takes', () => {
    // Random pieces, each followed by the one from 40 pieces (20 KB) back: matches reach far into the window.
    const pieces = Array.from({ length: 300 }, (_, i) => randomBytes(500, 100 + i));
    const echoes = Buffer.concat(pieces.flatMap((piece, i) => [piece, pieces[Math.max(0, i - 40)] ?? piece]));
    const data = gzipSync(echoes, { memLevel: 2 });
    const first = createGunzip({ checkpointInterval: 10_000 });
    first.push(data.subarray(0, data.length >> 1));
    const start = roundTrip(first.checkpointAtOrBefore(first.outputOffset));
    if (start === null) throw new Error('no checkpoint');
    expect(start.format === 'gzip' && start.at === 'block' && start.dictionaryLength === 32 * 1024).toBe(
      true,
    );
    const resumed = resumeDecoder(start, { checkpointInterval: 1000, maxCheckpoints: 1_000_000 });
    decode(resumed, data.subarray(start.compressedOffset), 1000);
    const checkpoints = resumed.checkpoints().map(roundTrip);
    expect(checkpoints.length).toBeGreaterThan(20);
    for (const checkpoint of checkpoints) {
      const rest = decode(resumeDecoder(checkpoint), data.subarray(checkpoint.compressedOffset), 777);
      expect(rest.equals(echoes.subarray(checkpoint.outputOffset))).toBe(true);
    }
  });

  it('takes checkpoints in the middle of a byte, at member starts and at byte-aligned stored blocks', () => {
    const first = gzipSync(small, { memLevel: 3 });
    const data = Buffer.concat([first, gzipSync(binary.subarray(0, 100_000), { memLevel: 4 })]);
    const reader = createGunzip({ checkpointInterval: 0, maxCheckpoints: 1_000_000 });
    decode(reader, data);
    const checkpoints = reader.checkpoints() as GunzipCheckpoint[];
    expect(checkpoints.some((c) => c.at === 'block' && c.bitCount > 0)).toBe(true);
    expect(checkpoints.some((c) => c.at === 'block' && c.bitCount === 0 && c.memberLength > 0)).toBe(true);
    expect(checkpoints.filter((c) => c.at === 'member').map((c) => c.compressedOffset)).toEqual([
      0,
      first.length,
      data.length,
    ]);
  });

  it('resumes from the checkpoint before a line across a chain of invocations and yields every line once', () => {
    const data = Buffer.concat([gzipSync(text, { level: 6 }), gzipSync(small)]);
    const expected = gunzipSync(data).toString();
    const rnd = prng(3);
    const lines: string[] = [];
    let continuation: { checkpoint: StreamCheckpoint; skipTo: number } | null = null;
    const options = { checkpointInterval: 64 * 1024 };
    let invocations = 0;
    let finished = false;
    while (!finished && invocations < 2000) {
      invocations += 1;
      const checkpoint = continuation?.checkpoint;
      const reader = checkpoint === undefined ? createGunzip(options) : resumeDecoder(checkpoint, options);
      let skip = continuation === null ? 0 : continuation.skipTo - reader.outputOffset;
      let offset = reader.compressedOffset;
      let pendingLine = '';
      let lineStart = reader.outputOffset + Math.max(skip, 0);
      // Each invocation reads a random number of chunks before its time runs out.
      const budget = 1 + Math.floor(rnd() * 30);
      for (let n = 0; n < budget && offset < data.length; n++) {
        const size = 1 + Math.floor(rnd() * 3000);
        for (const piece of reader.push(data.subarray(offset, offset + size))) {
          let chunk = Buffer.from(piece).toString('latin1');
          if (skip > 0) {
            const dropped = Math.min(skip, chunk.length);
            chunk = chunk.slice(dropped);
            skip -= dropped;
          }
          const parts = (pendingLine + chunk).split('\n');
          pendingLine = parts.pop() ?? '';
          for (const line of parts) {
            lines.push(`${line}\n`);
            lineStart += line.length + 1;
          }
        }
        offset = Math.min(offset + size, data.length);
        reader.commit(lineStart);
        expect(reader.retainedCheckpoints).toBeLessThanOrEqual(3);
      }
      if (offset >= data.length) {
        reader.end();
        lines.push(pendingLine);
        finished = true;
        break;
      }
      const next = reader.checkpointAtOrBefore(lineStart);
      expect(next).not.toBeNull();
      if (next === null) break;
      const message = JSON.stringify({ checkpoint: next, skipTo: lineStart });
      expect(message.length).toBeLessThan(64 * 1024);
      continuation = JSON.parse(message) as { checkpoint: StreamCheckpoint; skipTo: number };
    }
    expect(finished).toBe(true);
    expect(invocations).toBeGreaterThan(5);
    expect(lines.join('') === expected).toBe(true);
  });

  it('keeps a checkpoint under 64 KiB of JSON even for incompressible output', () => {
    for (const data of [gzipSync(binary), gzipSync(text)]) {
      const reader = createGunzip({ checkpointInterval: 0, maxCheckpoints: 1_000_000 });
      decode(reader, data);
      const sizes = reader.checkpoints().map((c) => JSON.stringify(c).length);
      expect(Math.max(...sizes)).toBeLessThan(64 * 1024);
    }
    const reader = createGunzip({ checkpointInterval: 0 });
    decode(reader, gzipSync(binary));
    const last = reader.checkpointAtOrBefore(binary.length - 1);
    expect(last).not.toBeNull();
    expect(last?.format === 'gzip' && last.dictionaryLength).toBe(32 * 1024);
  });

  it('takes a checkpoint soon after every interval, even when the whole object comes in one push', () => {
    const interval = 64 * 1024;
    const reader = createGunzip({ checkpointInterval: interval, maxCheckpoints: 1_000_000 });
    decode(reader, gzipSync(text, { memLevel: 3 }), Number.MAX_SAFE_INTEGER);
    const offsets = [...reader.checkpoints().map((c) => c.outputOffset), text.length];
    for (let i = 1; i < offsets.length; i++) {
      // Blocks of at most 512 symbols here: a boundary comes within a few KB of where a checkpoint is due.
      expect((offsets[i] ?? 0) - (offsets[i - 1] ?? 0)).toBeLessThan(interval + 16 * 1024);
    }
  });

  it('takes block checkpoints no more often than the interval asks (member starts always have one)', () => {
    const reader = createGunzip({ checkpointInterval: 256 * 1024, maxCheckpoints: 1_000_000 });
    decode(reader, Buffer.concat([gzipSync(text), gzipSync(small)]));
    const checkpoints = reader.checkpoints() as GunzipCheckpoint[];
    expect(checkpoints.filter((c) => c.at === 'block').length).toBeGreaterThan(2);
    expect(checkpoints.filter((c) => c.at === 'member').map((c) => c.outputOffset)).toEqual([
      0,
      text.length,
      text.length + small.length,
    ]);
    for (let i = 1; i < checkpoints.length; i++) {
      const [before, after] = [checkpoints[i - 1], checkpoints[i]];
      if (after?.at === 'block') {
        expect(after.outputOffset - (before?.outputOffset ?? 0)).toBeGreaterThanOrEqual(256 * 1024);
      }
    }
  });

  it('returns the latest checkpoint at or before an offset, and none before the first', () => {
    const data = gzipSync(text);
    const reader = createGunzip({ checkpointInterval: 100_000, maxCheckpoints: 1_000_000 });
    decode(reader, data);
    const all = reader.checkpoints();
    for (const offset of [0, 1, 150_000, 777_777, text.length]) {
      const expected = all.filter((c) => c.outputOffset <= offset).at(-1);
      expect(reader.checkpointAtOrBefore(offset)).toEqual(expected);
    }
    expect(reader.checkpointAtOrBefore(-1)).toBeNull();
    const resumed = resumeGunzip(roundTrip(all[3] as GunzipCheckpoint));
    expect(resumed.checkpointAtOrBefore((all[3]?.outputOffset ?? 0) - 1)).toBeNull();
  });

  it('retains few checkpoints after commit, and a bounded number without', () => {
    const data = gzipSync(text, { memLevel: 1 });
    const committed = createGunzip({ checkpointInterval: 0 });
    for (let i = 0; i < data.length; i += 4096) {
      committed.push(data.subarray(i, i + 4096));
      committed.commit(committed.outputOffset);
      expect(committed.retainedCheckpoints).toBeLessThanOrEqual(2);
    }
    committed.end();

    const uncommitted = createGunzip({ checkpointInterval: 0, maxCheckpoints: 8 });
    const expected = decode(uncommitted, data, 4096);
    expect(uncommitted.retainedCheckpoints).toBeLessThanOrEqual(8);
    const kept = uncommitted.checkpoints();
    expect(kept[0]?.outputOffset).toBe(0);
    for (const checkpoint of kept.map(roundTrip)) {
      const rest = decode(resumeDecoder(checkpoint), data.subarray(checkpoint.compressedOffset));
      expect(rest.equals(expected.subarray(checkpoint.outputOffset))).toBe(true);
    }
  });

  it('ends a reader resumed after the last member without more input', () => {
    const data = gzipSync(small);
    const reader = createGunzip();
    decode(reader, data);
    const last = reader.checkpointAtOrBefore(small.length);
    expect(last).toMatchObject({ at: 'member', compressedOffset: data.length, outputOffset: small.length });
    const resumed = resumeDecoder(roundTrip(last as StreamCheckpoint));
    expect(resumed.end()).toEqual([]);
  });

  it('refuses malformed or tampered checkpoints', () => {
    const data = gzipSync(text);
    const reader = createGunzip({ checkpointInterval: 100_000 });
    decode(reader, data);
    const checkpoint = reader.checkpointAtOrBefore(text.length - 1);
    if (checkpoint?.format !== 'gzip' || checkpoint.at !== 'block')
      throw new Error('expected a block checkpoint');
    const raw = Buffer.from(checkpoint.dictionary, 'base64');
    const dictionary = flipped(raw, raw.length >> 1, 0x55);
    for (const bad of [
      { ...checkpoint, bitCount: 8 },
      { ...checkpoint, bitValue: 2 ** checkpoint.bitCount },
      { ...checkpoint, version: 2 },
      { ...checkpoint, format: 'zip' },
      { ...checkpoint, compressedOffset: -1 },
      { ...checkpoint, memberLength: checkpoint.outputOffset + 1 },
      { ...checkpoint, dictionaryLength: 100 },
      { ...checkpoint, dictionaryCrc32: (checkpoint.dictionaryCrc32 + 1) % 2 ** 32 },
      { ...checkpoint, dictionary: dictionary.toString('base64') },
      { ...checkpoint, dictionary: 'not base64 deflate' },
      { ...checkpoint, extra: true },
      { format: 'plain', version: 1, compressedOffset: 5, outputOffset: 6 },
      null,
      'checkpoint',
    ]) {
      expect(gunzipError(() => resumeDecoder(parseStreamCheckpoint(bad))).reason).toBe('invalid-checkpoint');
    }
  });
});

describe('resumable gunzip: errors', () => {
  const data = gzipSync(small.subarray(0, 30_000));

  it('refuses data that is not gzip', () => {
    expect(failureReason(small)).toBe('not-gzip');
    expect(failureReason(Buffer.from([0x1f, 0x8c, 8, 0]))).toBe('not-gzip');
  });

  it('reports every truncation as truncated, including an empty object', () => {
    for (let length = 0; length < data.length; length += length < 40 ? 1 : 97) {
      expect(failureReason(data.subarray(0, length), 1000)).toBe('truncated');
    }
    expect(failureReason(data.subarray(0, data.length - 1))).toBe('truncated');
  });

  it('reports a CRC-32 or length mismatch in the trailer', () => {
    expect(failureReason(flipped(data, data.length - 8, 1))).toBe('checksum');
    expect(failureReason(flipped(data, data.length - 1, 1))).toBe('checksum');
  });

  it('reports damaged deflate data, never a silent success', () => {
    const invalidBlockType = Buffer.from(data);
    invalidBlockType[10] = (invalidBlockType[10] ?? 0) | 0b110;
    expect(failureReason(invalidBlockType)).toBe('corrupt');
    const rnd = prng(5);
    for (let i = 0; i < 300; i++) {
      const at = 10 + Math.floor(rnd() * (data.length - 18));
      const damaged = flipped(data, at, 1 << Math.floor(rnd() * 8));
      expect(['corrupt', 'checksum', 'truncated']).toContain(failureReason(damaged));
    }
  });

  it('reports damaged headers and data after the last member', () => {
    const badMethod = Buffer.from(data);
    badMethod[2] = 7;
    expect(failureReason(badMethod)).toBe('corrupt');
    const reservedFlag = Buffer.from(data);
    reservedFlag[3] = 0x20;
    expect(failureReason(reservedFlag)).toBe('corrupt');
    const headerCrcAt = 10 + 2 + 5 + 'flow.log\0'.length + 'a comment\0'.length;
    expect(failureReason(flipped(gzipWithHeaderFields(small), headerCrcAt, 1))).toBe('corrupt');
    expect(failureReason(Buffer.concat([data, Buffer.from('garbage')]))).toBe('corrupt');
    expect(failureReason(Buffer.concat([data, Buffer.from([0, 0, 1])]))).toBe('corrupt');
    expect(failureReason(Buffer.concat([data, Buffer.from([0x1f, 0x8b, 8])]))).toBe('truncated');
  });

  it('refuses options that would never take a checkpoint or keep one', () => {
    expect(() => createGunzip({ checkpointInterval: -1 })).toThrow(RangeError);
    expect(() => createGunzip({ checkpointInterval: Number.NaN })).toThrow(RangeError);
    expect(() => createGunzip({ maxCheckpoints: 1 })).toThrow(RangeError);
  });

  it('keeps failing once it has failed', () => {
    const reader = createGunzip();
    const first = gunzipError(() => reader.push(small));
    expect(gunzipError(() => reader.push(data))).toBe(first);
    expect(gunzipError(() => reader.end())).toBe(first);
  });
});

describe('plain objects', () => {
  it('tells gzip from plain by the first two bytes', () => {
    expect(detectEncoding(gzipSync(small))).toBe('gzip');
    expect(detectEncoding(small)).toBe('plain');
    expect(detectEncoding(Buffer.from([0x1f]))).toBe('plain');
    expect(detectEncoding(empty)).toBe('plain');
  });

  it('passes plain bytes through and resumes at any byte offset', () => {
    const reader = createDecoder(detectEncoding(small));
    expect(decode(reader, small, 1000).equals(small)).toBe(true);
    const checkpoint = roundTrip(reader.checkpointAtOrBefore(12_345));
    expect(checkpoint).toEqual({
      format: 'plain',
      version: 1,
      compressedOffset: 12_345,
      outputOffset: 12_345,
    });
    const resumed = resumeDecoder(parseStreamCheckpoint(checkpoint));
    expect(resumed.outputOffset).toBe(12_345);
    expect(decode(resumed, small.subarray(12_345)).equals(small.subarray(12_345))).toBe(true);
    expect(createPassThrough().checkpointAtOrBefore(10)).toEqual({
      format: 'plain',
      version: 1,
      compressedOffset: 0,
      outputOffset: 0,
    });
  });
});
