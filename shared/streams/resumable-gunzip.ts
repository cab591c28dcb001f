/**
 * Resumable decoding of S3 objects (gzip or plain), zran-style.
 *
 * A Lambda that runs out of time while it reads a large object stops and sends a continuation message; the next
 * invocation resumes with an S3 Range GET from a compressed byte offset, without decompressing the object again
 * from its start. Node's zlib cannot export or import inflate state, so the gzip reader inflates with pako's zlib
 * port in raw mode and, at most every `checkpointInterval` bytes of output, stops at a deflate block boundary
 * (`Z_BLOCK`) to take a snapshot: the compressed offset of the next unread byte, the 0 to 7 bits of the previous
 * byte that belong to the next block, the last 32 KiB of the member's output (the dictionary the next block may
 * refer back to), and the member's running CRC-32 and length, so that its trailer is still verified after a
 * resume. A resumed reader is a raw inflater primed with those bits and that dictionary.
 *
 * pako exports no inflatePrime, so priming sets its state's bit accumulator (`hold`, `bits`) directly, as zlib's
 * inflatePrime does; that and `data_type` (zlib's documented block-boundary report) are all this module reads of
 * pako beyond its public zlib-like functions. The gzip wrapper (header, CRC-32, length) is handled here, with
 * Node's native crc32.
 *
 * Output offsets count uncompressed bytes from the start of the object (all gzip members together); compressed
 * offsets count bytes of the object as stored. A resumed reader emits output from `checkpoint.outputOffset` on;
 * a caller that resumes for a record starting later discards the bytes before it.
 */
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
// @ts-expect-error pako ships no type declarations; its low-level zlib port is typed by PakoInflate below.
import pakoInflateModule from 'pako/lib/zlib/inflate.js';
import * as z from 'zod';
import { BridgeError } from '../domain/errors.js';

/** Deflate's window: the furthest a match can refer back. */
const WINDOW = 32 * 1024;
/** Output buffer size; large buffers amortise the per-call cost of pako's inflate (measured best at 256 KiB). */
const OUT_SIZE = 256 * 1024;
/** A header (with a file name, a comment and extra fields) longer than this is refused rather than buffered. */
const MAX_HEADER = 128 * 1024;
const EMPTY = new Uint8Array(0);

/** Why a stream could not be decoded. None of them improves with a retry. */
export type GunzipErrorReason = 'not-gzip' | 'corrupt' | 'truncated' | 'checksum' | 'invalid-checkpoint';

/** The object is not gzip, is damaged or ends early, or a checkpoint is malformed. */
export class GunzipError extends BridgeError {
  readonly retryable = false;
  constructor(
    message: string,
    readonly reason: GunzipErrorReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where a gzip object can be resumed. JSON-serialisable; at most about 44 KB as JSON (32 KiB of random bytes). */
export interface GunzipCheckpoint {
  readonly format: 'gzip';
  readonly version: 1;
  /** `member`: between gzip members (before a header or the end); `block`: at a deflate block boundary. */
  readonly at: 'member' | 'block';
  /** Offset in the stored object of the first byte the resumed reader needs. */
  readonly compressedOffset: number;
  /** Uncompressed offset (from the start of the object) of the first byte the resumed reader emits. */
  readonly outputOffset: number;
  /** Number (0 to 7) of the high bits of byte `compressedOffset - 1` that belong to the next block... */
  readonly bitCount: number;
  /** ...and their value, so that the resumed reader needs no byte before `compressedOffset`. */
  readonly bitValue: number;
  /** CRC-32 and length of the current member's output so far, to verify its trailer after a resume. */
  readonly memberCrc32: number;
  readonly memberLength: number;
  /** The last min(32 KiB, memberLength) bytes of output, deflate-raw compressed, base64. */
  readonly dictionary: string;
  readonly dictionaryLength: number;
  readonly dictionaryCrc32: number;
}

/** Where a plain (uncompressed) object can be resumed: any byte offset. */
export interface PlainCheckpoint {
  readonly format: 'plain';
  readonly version: 1;
  readonly compressedOffset: number;
  readonly outputOffset: number;
}

export type StreamCheckpoint = GunzipCheckpoint | PlainCheckpoint;

/** A decoder of one object that can hand out checkpoints to resume from in a later invocation. */
export interface ResumableDecoder {
  /**
   * Feeds the object's next bytes (from byte 0, or from `checkpoint.compressedOffset` when resumed) and returns
   * the output they complete, in order. The returned arrays are never overwritten later (gzip output comes as
   * views of 256 KiB buffers: copy a small piece rather than keep it for long).
   */
  push(chunk: Uint8Array): Uint8Array[];
  /** End of input: verifies the trailer(s) and throws a `GunzipError` for truncated or corrupt data. */
  end(): Uint8Array[];
  /**
   * The latest checkpoint whose `outputOffset` is at or before `offset` (null when there is none). Ask for the one
   * at or before the first record not finished yet; then resume there and skip `offset - outputOffset` bytes.
   */
  checkpointAtOrBefore(offset: number): StreamCheckpoint | null;
  /** Drops the checkpoints older than the latest one at or before `offset` (everything before it is done). */
  commit(offset: number): void;
  /** The retained checkpoints, oldest first (diagnostics and tests; serialising each costs a small deflate). */
  checkpoints(): StreamCheckpoint[];
  /** How many checkpoints are retained. */
  readonly retainedCheckpoints: number;
  /** Uncompressed offset, from the start of the object, just after the output returned so far. */
  readonly outputOffset: number;
  /** Offset in the stored object just after the bytes pushed so far. */
  readonly compressedOffset: number;
}

/** The same interface, under the name of the gzip reader. */
export type ResumableGunzip = ResumableDecoder;

export interface GunzipOptions {
  /** Minimum output (bytes) between two checkpoints; 0 takes one at every block boundary. Default 1 MiB. */
  readonly checkpointInterval?: number;
  /**
   * Upper bound on retained checkpoints (32 KiB each) when the caller does not commit. When it is exceeded every
   * second checkpoint is dropped (the oldest and the newest stay), so coverage gets coarser but never lost.
   * Default 16, minimum 2.
   */
  readonly maxCheckpoints?: number;
}

/** `gzip` when the object starts with the gzip magic bytes 1f 8b; give it at least the first two bytes. */
export function detectEncoding(head: Uint8Array): 'gzip' | 'plain' {
  return head[0] === 0x1f && head[1] === 0x8b ? 'gzip' : 'plain';
}

/** A decoder for the object's encoding, e.g. `createDecoder(detectEncoding(firstChunk))`. */
export function createDecoder(encoding: 'gzip' | 'plain', options: GunzipOptions = {}): ResumableDecoder {
  return encoding === 'gzip' ? createGunzip(options) : createPassThrough();
}

/** Resumes a decoder of either kind; the input starts at `checkpoint.compressedOffset`. */
export function resumeDecoder(checkpoint: StreamCheckpoint, options: GunzipOptions = {}): ResumableDecoder {
  return checkpoint.format === 'gzip' ? resumeGunzip(checkpoint, options) : resumePassThrough(checkpoint);
}

export function createGunzip(options: GunzipOptions = {}): ResumableDecoder {
  return new GzipReader(options, null);
}

export function resumeGunzip(checkpoint: GunzipCheckpoint, options: GunzipOptions = {}): ResumableDecoder {
  return new GzipReader(options, restoreSnapshot(parseStreamCheckpoint(checkpoint)));
}

export function createPassThrough(): ResumableDecoder {
  return new PassThrough(0);
}

export function resumePassThrough(checkpoint: PlainCheckpoint): ResumableDecoder {
  const parsed = parseStreamCheckpoint(checkpoint);
  if (parsed.format !== 'plain')
    throw new GunzipError('not a checkpoint of a plain object', 'invalid-checkpoint');
  return new PassThrough(parsed.outputOffset);
}

const offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const uint32 = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);
const checkpointSchema = z.discriminatedUnion('format', [
  z.strictObject({
    format: z.literal('gzip'),
    version: z.literal(1),
    at: z.enum(['member', 'block']),
    compressedOffset: offset,
    outputOffset: offset,
    bitCount: z.number().int().min(0).max(7),
    bitValue: z.number().int().min(0).max(127),
    memberCrc32: uint32,
    memberLength: offset,
    dictionary: z.string().max(64 * 1024),
    dictionaryLength: z.number().int().min(0).max(WINDOW),
    dictionaryCrc32: uint32,
  }),
  z.strictObject({
    format: z.literal('plain'),
    version: z.literal(1),
    compressedOffset: offset,
    outputOffset: offset,
  }),
]);

/** Validates a checkpoint read back from a message (`JSON.parse` output); throws `GunzipError` otherwise. */
export function parseStreamCheckpoint(value: unknown): StreamCheckpoint {
  const parsed = checkpointSchema.safeParse(value);
  if (!parsed.success) {
    throw new GunzipError(
      `invalid checkpoint: ${z.prettifyError(parsed.error).slice(0, 300)}`,
      'invalid-checkpoint',
    );
  }
  const cp = parsed.data;
  if (cp.format === 'plain') {
    if (cp.compressedOffset !== cp.outputOffset) {
      throw new GunzipError(
        "invalid checkpoint: a plain checkpoint's compressed and output offsets differ",
        'invalid-checkpoint',
      );
    }
    return cp;
  }
  const consistent =
    cp.bitValue < 2 ** cp.bitCount &&
    cp.memberLength <= cp.outputOffset &&
    (cp.at === 'block'
      ? cp.dictionaryLength === Math.min(WINDOW, cp.memberLength) && cp.compressedOffset > 0
      : cp.bitCount === 0 && cp.memberLength === 0 && cp.dictionaryLength === 0 && cp.memberCrc32 === 0);
  if (!consistent) throw new GunzipError('invalid checkpoint: inconsistent fields', 'invalid-checkpoint');
  return cp;
}

// ---------------------------------------------------------------------------------------------------------------
// pako's low-level inflate (a line-by-line port of zlib's inflate.c), the part of it this module relies on.

interface PakoInflateState {
  /** Bit accumulator and its number of bits (as in zlib). Set after init to prime the inflater (inflatePrime). */
  hold: number;
  bits: number;
}

interface PakoZStream {
  input: Uint8Array | null;
  next_in: number;
  avail_in: number;
  total_in: number;
  output: Uint8Array | null;
  next_out: number;
  avail_out: number;
  total_out: number;
  msg: string;
  state: PakoInflateState | null;
  /** As in zlib: unused bits of the last byte, +64 after the last block, +128 at a block boundary. */
  data_type: number;
  adler: number;
}

interface PakoInflate {
  inflateInit2(strm: PakoZStream, windowBits: number): number;
  inflate(strm: PakoZStream, flush: number): number;
  inflateSetDictionary(strm: PakoZStream, dictionary: Uint8Array): number;
  inflateEnd(strm: PakoZStream): number;
}

const pako: PakoInflate = pakoInflateModule;

const Z_NO_FLUSH = 0;
const Z_BLOCK = 5;
const Z_OK = 0;
const Z_STREAM_END = 1;
const Z_BUF_ERROR = -5;
const AT_BOUNDARY = 128;
const AFTER_LAST_BLOCK = 64;

function newZStream(): PakoZStream {
  return {
    input: null,
    next_in: 0,
    avail_in: 0,
    total_in: 0,
    output: null,
    next_out: 0,
    avail_out: 0,
    total_out: 0,
    msg: '',
    state: null,
    data_type: 2,
    adler: 0,
  };
}

// ---------------------------------------------------------------------------------------------------------------

interface Snapshot {
  readonly at: 'member' | 'block';
  readonly compressedOffset: number;
  readonly outputOffset: number;
  readonly bitCount: number;
  readonly bitValue: number;
  readonly memberCrc32: number;
  readonly memberLength: number;
  readonly window: Uint8Array;
  serialised?: GunzipCheckpoint;
}

type Phase = 'header' | 'deflate' | 'trailer' | 'between' | 'padding';

function byteAt(buf: Uint8Array, i: number): number {
  return buf[i] ?? 0;
}

function uint32le(buf: Uint8Array, i: number): number {
  return (
    (byteAt(buf, i) | (byteAt(buf, i + 1) << 8) | (byteAt(buf, i + 2) << 16) | (byteAt(buf, i + 3) << 24)) >>>
    0
  );
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Length of the gzip member header at the start of `buf`, or -1 when `buf` does not hold all of it yet. */
function gzipHeaderLength(buf: Uint8Array, at: number, first: boolean): number {
  if ((buf.length >= 1 && buf[0] !== 0x1f) || (buf.length >= 2 && buf[1] !== 0x8b)) {
    throw first
      ? new GunzipError(
          'not gzip data: the object does not start with the gzip magic bytes 1f 8b',
          'not-gzip',
        )
      : new GunzipError(`unexpected data after a gzip member at byte ${at}`, 'corrupt');
  }
  if (buf.length < 10) return -1;
  if (buf[2] !== 8)
    throw new GunzipError(`unknown compression method in gzip header at byte ${at}`, 'corrupt');
  const flags = byteAt(buf, 3);
  if ((flags & 0xe0) !== 0) throw new GunzipError(`reserved gzip header flags set at byte ${at}`, 'corrupt');
  let p = 10;
  if ((flags & 4) !== 0) {
    if (buf.length < p + 2) return -1;
    p += 2 + (byteAt(buf, p) | (byteAt(buf, p + 1) << 8));
    if (buf.length < p) return -1;
  }
  for (const flag of [8, 16]) {
    if ((flags & flag) !== 0) {
      const nul = buf.indexOf(0, p);
      if (nul < 0) return -1;
      p = nul + 1;
    }
  }
  if ((flags & 2) !== 0) {
    if (buf.length < p + 2) return -1;
    if ((byteAt(buf, p) | (byteAt(buf, p + 1) << 8)) !== (crc32(buf.subarray(0, p)) & 0xffff)) {
      throw new GunzipError(`gzip header CRC mismatch at byte ${at}`, 'corrupt');
    }
    p += 2;
  }
  return p;
}

function serialise(s: Snapshot): GunzipCheckpoint {
  return {
    format: 'gzip',
    version: 1,
    at: s.at,
    compressedOffset: s.compressedOffset,
    outputOffset: s.outputOffset,
    bitCount: s.bitCount,
    bitValue: s.bitValue,
    memberCrc32: s.memberCrc32,
    memberLength: s.memberLength,
    dictionary: s.window.length > 0 ? deflateRawSync(s.window).toString('base64') : '',
    dictionaryLength: s.window.length,
    dictionaryCrc32: crc32(s.window),
  };
}

function restoreSnapshot(cp: StreamCheckpoint): Snapshot {
  if (cp.format !== 'gzip') throw new GunzipError('not a checkpoint of a gzip object', 'invalid-checkpoint');
  let window = EMPTY;
  if (cp.dictionaryLength > 0) {
    try {
      window = new Uint8Array(
        inflateRawSync(Buffer.from(cp.dictionary, 'base64'), { maxOutputLength: WINDOW }),
      );
    } catch (cause) {
      throw new GunzipError('invalid checkpoint: unreadable dictionary', 'invalid-checkpoint', { cause });
    }
  }
  if (window.length !== cp.dictionaryLength || crc32(window) !== cp.dictionaryCrc32) {
    throw new GunzipError(
      'invalid checkpoint: dictionary does not match its length and CRC-32',
      'invalid-checkpoint',
    );
  }
  return {
    at: cp.at,
    compressedOffset: cp.compressedOffset,
    outputOffset: cp.outputOffset,
    bitCount: cp.bitCount,
    bitValue: cp.bitValue,
    memberCrc32: cp.memberCrc32,
    memberLength: cp.memberLength,
    window,
    serialised: cp,
  };
}

class GzipReader implements ResumableDecoder {
  private readonly interval: number;
  private readonly maxCheckpoints: number;
  private readonly snapshots: Snapshot[] = [];
  private phase: Phase;
  private strm: PakoZStream | null = null;
  /** Bytes of a header or trailer that arrived split over pushes, and the object offset of their first byte. */
  private pending: Uint8Array = EMPTY;
  private pendingAt = 0;
  private inputEnd: number;
  private output: number;
  private lastSnapshotOutput: number;
  private memberCrc = 0;
  private memberLength = 0;
  /** Whether a member header was read (or the reader resumed past one): later headers are not the first. */
  private sawHeader: boolean;
  /** Output buffers: `out` is being filled (up to `outPos`); `prev` holds the output before it (full). */
  private out: Uint8Array = EMPTY;
  private outPos = 0;
  private prev: Uint8Array = EMPTY;
  private failure: GunzipError | null = null;
  private ended = false;

  constructor(options: GunzipOptions, from: Snapshot | null) {
    this.interval = options.checkpointInterval ?? 1024 * 1024;
    this.maxCheckpoints = options.maxCheckpoints ?? 16;
    if (!Number.isSafeInteger(this.interval) || this.interval < 0) {
      throw new RangeError('checkpointInterval must be a non-negative integer');
    }
    if (!(this.maxCheckpoints >= 2)) throw new RangeError('maxCheckpoints must be at least 2');
    const start: Snapshot = from ?? {
      at: 'member',
      compressedOffset: 0,
      outputOffset: 0,
      bitCount: 0,
      bitValue: 0,
      memberCrc32: 0,
      memberLength: 0,
      window: EMPTY,
    };
    this.snapshots.push(start);
    this.inputEnd = start.compressedOffset;
    this.output = start.outputOffset;
    this.lastSnapshotOutput = start.outputOffset;
    this.sawHeader = start.compressedOffset > 0;
    if (start.at === 'member') {
      this.phase = start.compressedOffset > 0 ? 'between' : 'header';
    } else {
      this.phase = 'deflate';
      this.memberCrc = start.memberCrc32;
      this.memberLength = start.memberLength;
      this.prev = start.window;
      const strm = this.newInflater();
      if (start.window.length > 0 && pako.inflateSetDictionary(strm, start.window) !== Z_OK) {
        throw new GunzipError('invalid checkpoint: dictionary refused', 'invalid-checkpoint');
      }
      if (strm.state === null) throw new GunzipError('inflater without state', 'corrupt');
      strm.state.hold = start.bitValue;
      strm.state.bits = start.bitCount;
    }
  }

  get outputOffset(): number {
    return this.output;
  }

  get compressedOffset(): number {
    return this.inputEnd;
  }

  get retainedCheckpoints(): number {
    return this.snapshots.length;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    this.usable();
    const produced: Uint8Array[] = [];
    try {
      this.consume(chunk, produced);
    } catch (error) {
      this.failure =
        error instanceof GunzipError
          ? error
          : new GunzipError('gzip data could not be decoded', 'corrupt', { cause: error });
      throw this.failure;
    }
    this.inputEnd += chunk.length;
    return produced;
  }

  end(): Uint8Array[] {
    this.usable();
    this.ended = true;
    if (this.phase === 'between' || this.phase === 'padding') return [];
    const inside = { header: 'a gzip header', deflate: 'compressed data', trailer: 'a gzip trailer' }[
      this.phase
    ];
    this.failure =
      this.phase === 'header' && !this.sawHeader && this.inputEnd === 0
        ? new GunzipError('empty input: no gzip member', 'truncated')
        : new GunzipError(`gzip data ends early, inside ${inside}, at byte ${this.inputEnd}`, 'truncated');
    throw this.failure;
  }

  checkpointAtOrBefore(offset: number): GunzipCheckpoint | null {
    const s = this.latestAtOrBefore(offset);
    return s < 0 ? null : this.serialised(s);
  }

  commit(offset: number): void {
    const s = this.latestAtOrBefore(offset);
    if (s > 0) this.snapshots.splice(0, s);
  }

  checkpoints(): GunzipCheckpoint[] {
    return this.snapshots.map((_, i) => this.serialised(i));
  }

  private serialised(i: number): GunzipCheckpoint {
    const s = this.snapshots[i];
    if (s === undefined) throw new RangeError('no such checkpoint');
    s.serialised ??= serialise(s);
    return s.serialised;
  }

  private latestAtOrBefore(offset: number): number {
    for (let i = this.snapshots.length - 1; i >= 0; i--) {
      const s = this.snapshots[i];
      if (s !== undefined && s.outputOffset <= offset) return i;
    }
    return -1;
  }

  private usable(): void {
    if (this.failure !== null) throw this.failure;
    if (this.ended) throw new GunzipError('the gzip reader has already ended', 'corrupt');
  }

  private newInflater(): PakoZStream {
    const strm = newZStream();
    if (pako.inflateInit2(strm, -15) !== Z_OK) throw new GunzipError('inflater could not start', 'corrupt');
    this.strm = strm;
    return strm;
  }

  /** Decodes `chunk`, whose first byte is at object offset `this.inputEnd`. */
  private consume(chunk: Uint8Array, produced: Uint8Array[]): void {
    let input = chunk;
    let base = this.inputEnd;
    let pos = 0;
    while (pos < input.length) {
      switch (this.phase) {
        case 'header': {
          const buf = this.gather(input, pos, base);
          const n = gzipHeaderLength(buf.bytes, buf.at, !this.sawHeader);
          if (n < 0) {
            if (buf.bytes.length > MAX_HEADER) {
              throw new GunzipError(
                `gzip header longer than ${MAX_HEADER} bytes at byte ${buf.at}`,
                'corrupt',
              );
            }
            this.keep(buf.bytes, buf.at);
            return;
          }
          this.pending = EMPTY;
          input = buf.bytes;
          base = buf.at;
          pos = n;
          this.sawHeader = true;
          this.memberCrc = 0;
          this.memberLength = 0;
          this.newInflater();
          this.phase = 'deflate';
          break;
        }
        case 'deflate':
          pos = this.inflate(input, pos, base, produced);
          break;
        case 'trailer': {
          const buf = this.gather(input, pos, base);
          if (buf.bytes.length < 8) {
            this.keep(buf.bytes, buf.at);
            return;
          }
          this.pending = EMPTY;
          input = buf.bytes;
          base = buf.at;
          pos = 8;
          this.verifyTrailer(input, base);
          this.phase = 'between';
          break;
        }
        case 'between':
          if (input[pos] === 0) {
            this.phase = 'padding';
          } else {
            this.phase = 'header';
          }
          break;
        case 'padding':
          for (; pos < input.length; pos++) {
            if (input[pos] !== 0) {
              throw new GunzipError(`unexpected data after a gzip member at byte ${base + pos}`, 'corrupt');
            }
          }
          break;
      }
    }
  }

  /** The unconsumed part of `input`, after the bytes kept from earlier pushes. */
  private gather(input: Uint8Array, pos: number, base: number): { bytes: Uint8Array; at: number } {
    const rest = input.subarray(pos);
    return this.pending.length > 0
      ? { bytes: concat(this.pending, rest), at: this.pendingAt }
      : { bytes: rest, at: base + pos };
  }

  private keep(bytes: Uint8Array, at: number): void {
    this.pending = bytes.slice();
    this.pendingAt = at;
  }

  private verifyTrailer(trailer: Uint8Array, at: number): void {
    if (uint32le(trailer, 0) !== this.memberCrc) {
      throw new GunzipError(`gzip member CRC-32 mismatch (trailer at byte ${at})`, 'checksum');
    }
    if (uint32le(trailer, 4) !== this.memberLength % 2 ** 32) {
      throw new GunzipError(`gzip member length mismatch (trailer at byte ${at})`, 'checksum');
    }
    this.memberCrc = 0;
    this.memberLength = 0;
    this.strm = null;
    this.record({
      at: 'member',
      compressedOffset: at + 8,
      outputOffset: this.output,
      bitCount: 0,
      bitValue: 0,
      memberCrc32: 0,
      memberLength: 0,
      window: EMPTY,
    });
  }

  /** Inflates `input` from `pos`; returns the position after the deflate data, or `input.length` for more. */
  private inflate(input: Uint8Array, pos: number, base: number, produced: Uint8Array[]): number {
    const strm = this.strm;
    if (strm === null) throw new GunzipError('inflater missing', 'corrupt');
    strm.input = input;
    strm.next_in = pos;
    strm.avail_in = input.length - pos;
    for (;;) {
      if (this.outPos === this.out.length) {
        if (this.out.length > 0) this.prev = this.out;
        this.out = new Uint8Array(OUT_SIZE);
        this.outPos = 0;
      }
      const space = this.out.length - this.outPos;
      const untilDue = this.lastSnapshotOutput + this.interval - this.output;
      const due = untilDue <= 0;
      strm.output = this.out;
      strm.next_out = this.outPos;
      // Until a checkpoint is due, stop where it becomes due; from there, stop at the next block boundary.
      strm.avail_out = due ? space : Math.min(space, untilDue);
      const inBefore = strm.avail_in;
      const ret = pako.inflate(strm, due ? Z_BLOCK : Z_NO_FLUSH);
      const n = strm.next_out - this.outPos;
      if (n > 0) {
        const piece = this.out.subarray(this.outPos, strm.next_out);
        produced.push(piece);
        this.memberCrc = crc32(piece, this.memberCrc);
        this.memberLength += n;
        this.output += n;
        this.outPos = strm.next_out;
      }
      if (ret === Z_STREAM_END) {
        const state = strm.state;
        // Whole bytes still in the bit accumulator were not deflate data (zlib keeps fewer than 8 bits here).
        const end = strm.next_in - (state === null ? 0 : state.bits >>> 3);
        strm.input = null;
        strm.output = null;
        this.phase = 'trailer';
        return end;
      }
      if (ret !== Z_OK && ret !== Z_BUF_ERROR) {
        throw new GunzipError(
          `corrupt deflate data near byte ${base + strm.next_in}: ${strm.msg || `inflate error ${ret}`}`,
          'corrupt',
        );
      }
      if (due && (strm.data_type & AT_BOUNDARY) !== 0 && (strm.data_type & AFTER_LAST_BLOCK) === 0) {
        this.snapshotAtBoundary(strm, base);
      }
      if (strm.avail_in === 0 && strm.avail_out > 0) {
        strm.input = null;
        strm.output = null;
        return input.length;
      }
      if (n === 0 && strm.avail_in === inBefore && strm.avail_out > 0) {
        throw new GunzipError(`deflate data makes no progress near byte ${base + strm.next_in}`, 'corrupt');
      }
    }
  }

  private snapshotAtBoundary(strm: PakoZStream, base: number): void {
    const state = strm.state;
    if (state === null || state.bits > 7) return;
    this.record({
      at: 'block',
      compressedOffset: base + strm.next_in,
      outputOffset: this.output,
      bitCount: state.bits,
      bitValue: state.hold & ((1 << state.bits) - 1),
      memberCrc32: this.memberCrc,
      memberLength: this.memberLength,
      window: this.lastOutput(Math.min(WINDOW, this.memberLength)),
    });
  }

  /** A copy of the last `n` (at most WINDOW) bytes of output. */
  private lastOutput(n: number): Uint8Array {
    const window = new Uint8Array(n);
    const fromOut = Math.min(n, this.outPos);
    window.set(this.out.subarray(this.outPos - fromOut, this.outPos), n - fromOut);
    const fromPrev = n - fromOut;
    if (fromPrev > 0) window.set(this.prev.subarray(this.prev.length - fromPrev), 0);
    return window;
  }

  private record(snapshot: Snapshot): void {
    this.lastSnapshotOutput = snapshot.outputOffset;
    this.snapshots.push(snapshot);
    if (this.snapshots.length > this.maxCheckpoints) {
      const last = this.snapshots.length - 1;
      const kept = this.snapshots.filter((_, i) => i % 2 === 0 || i === last);
      this.snapshots.splice(0, this.snapshots.length, ...kept);
    }
  }
}

/** An uncompressed object: the output is the input, and every byte offset is a checkpoint. */
class PassThrough implements ResumableDecoder {
  private offset: number;
  private ended = false;

  constructor(private readonly start: number) {
    this.offset = start;
  }

  get outputOffset(): number {
    return this.offset;
  }

  get compressedOffset(): number {
    return this.offset;
  }

  get retainedCheckpoints(): number {
    return 0;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.ended) throw new GunzipError('the reader has already ended', 'corrupt');
    this.offset += chunk.length;
    return chunk.length > 0 ? [chunk] : [];
  }

  end(): Uint8Array[] {
    this.ended = true;
    return [];
  }

  checkpointAtOrBefore(offset: number): PlainCheckpoint | null {
    if (!(offset >= this.start)) return null;
    const at = Math.min(Math.floor(offset), this.offset);
    return { format: 'plain', version: 1, compressedOffset: at, outputOffset: at };
  }

  commit(_offset: number): void {}

  checkpoints(): PlainCheckpoint[] {
    return [];
  }
}
