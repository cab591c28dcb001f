import * as z from 'zod';
import {
  createRecordsSplitter,
  type RecordsResumePoint,
  type RecordsSplitter,
  RecordsStreamError,
  recordsResumePointSchema,
  resumePointAfter,
} from '../domain/cloudtrail/records-stream.js';
import { BridgeError } from '../domain/errors.js';
import { applyIngestionLimits } from '../domain/rows/limits.js';
import { classifyLogObjectKey } from '../domain/s3/object-kinds.js';
import { normaliseItem } from '../domain/sources.js';
import { AWS_CLOUDTRAIL } from '../domain/tables/columns.js';
import { AWS_VPCFLOW } from '../domain/tables/vpcflow-columns.js';
import { type FlowLogFormat, normaliseFlowLogLine, parseFlowLogHeader } from '../domain/vpcflow/parse.js';
import type { DeadLetter, DeadLetterPort } from '../ports/dead-letters.js';
import {
  type ContinuationPort,
  type LogObjectsPort,
  ObjectReadError,
  type ObjectRef,
} from '../ports/log-objects.js';
import type { LogsIngestionPort } from '../ports/logs-ingestion.js';
import type { ResumableDecoder, StreamCheckpoint } from '../streams/resumable-gunzip.js';

/**
 * Forwards one S3 log object (a CloudTrail trail file or a VPC Flow Log file, gzip or plain) to its Sentinel
 * table in bounded memory: the object is streamed, decoded, cut into records (trail files) or lines (flow
 * logs), normalised, and uploaded in batches of a few MiB; nothing of it is held beyond the current batch.
 *
 * An object one invocation cannot finish is continued: once the time budget is spent (or the ingestion API
 * keeps refusing for now, or the stream breaks), the part stops after its last uploaded record and hands the
 * rest over in a continuation message: where the decoder can resume (a deflate block boundary of the gzip
 * stream and its 32 KiB dictionary, or a plain byte offset), how many decoded bytes to skip from there, the
 * flow log header and line number or the trail file's position in `Records`, and the object's ETag. The next
 * part reads the object with a Range request from that point: no object is read twice from the start, and
 * nothing is dropped (records refused for good go to the dead-letter queue with their line and reason).
 */

/** Uploads start once this much row JSON is pending: five 1 MiB requests in flight, as the adapter allows. */
export const FLUSH_BYTES = 5 * 1024 * 1024;
/** A flow log line longer than this is refused (AWS writes a few hundred bytes per line). */
export const MAX_LINE_BYTES = 64 * 1024;
/** Raw text of a refused record kept in its dead letter. */
const MAX_LETTER_TEXT = 200_000;
/** Dead letters per part; further refusals of the same part are summarised in one letter (lines listed). */
export const MAX_LETTERS_PER_PART = 500;

export type LogKind = 'cloudtrail' | 'vpcflow';

const checkpointSchema = z.custom<StreamCheckpoint>(
  (value) => typeof value === 'object' && value !== null && 'format' in value && 'compressedOffset' in value,
  { message: 'expected a decoder checkpoint' },
);

/** Where a part stops and the next one starts; carried in the continuation message (JSON). */
export const resumeStateSchema = z.strictObject({
  v: z.literal(1),
  kind: z.enum(['cloudtrail', 'vpcflow']),
  encoding: z.enum(['gzip', 'plain']),
  /** The object's ETag when the first part read it; a different object under the key is never mixed in. */
  etag: z.string().min(1),
  /** Number of the next part (the first part is 1). */
  part: z.number().int().min(2),
  /** Where the decoder resumes; null: from the object's first byte (before the decoder's first checkpoint). */
  checkpoint: checkpointSchema.nullable(),
  /** Decoded offset of the first byte not done yet (at or after the checkpoint's output offset). */
  offset: z.number().int().min(0),
  /** Flow logs: the header line and the number of the next line (the header is line 1). */
  header: z.string().max(4096).optional(),
  line: z.number().int().min(1).optional(),
  /** Trail files: the position in `Records`. */
  records: recordsResumePointSchema.optional(),
  /** Totals of the parts before, for the final report. */
  rowsSoFar: z.number().int().min(0),
});
export type ResumeState = z.infer<typeof resumeStateSchema>;

export const CONTINUATION_TYPE = 'aws-sentinel-bridge/s3-logs-continuation';

export const continuationSchema = z.strictObject({
  type: z.literal(CONTINUATION_TYPE),
  object: z.strictObject({
    bucket: z.string().min(1),
    key: z.string().min(1),
    versionId: z.string().min(1).optional(),
  }),
  /** Absent: an object of a notification whose reading has not started yet. */
  resume: resumeStateSchema.optional(),
});
export type Continuation = z.infer<typeof continuationSchema>;

export function continuationBody(object: ObjectRef, resume?: ResumeState): string {
  const message: Continuation = {
    type: CONTINUATION_TYPE,
    object: {
      bucket: object.bucket,
      key: object.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
    },
    ...(resume ? { resume } : {}),
  };
  return JSON.stringify(message);
}

/** Decoders of stored bytes (gzip or plain) that hand out resumable checkpoints. */
export interface Decoders {
  detect(head: Uint8Array): 'gzip' | 'plain';
  create(encoding: 'gzip' | 'plain'): ResumableDecoder;
  resume(checkpoint: StreamCheckpoint): ResumableDecoder;
}

export interface LogObjectDeps {
  readonly objects: LogObjectsPort;
  readonly ingestion: LogsIngestionPort;
  readonly deadLetters: DeadLetterPort;
  readonly continuations: ContinuationPort;
  readonly decoders: Decoders;
  /** Trail records not to forward (e.g. the IAM changes the real-time pipeline already forwards). */
  readonly skipRecord?: (record: Record<string, unknown>) => boolean;
  /** Row JSON pending before an upload starts (default FLUSH_BYTES). */
  readonly flushBytes?: number;
}

export interface LogObjectJob {
  readonly object: ObjectRef;
  /** The SQS message that asked for this part (named in dead letters). */
  readonly messageId: string;
  readonly resume?: ResumeState;
}

export interface LogObjectSignals {
  /** The part's time budget: once aborted, reading stops, pending rows are uploaded, the rest is continued. */
  readonly signal?: AbortSignal;
  /** Uploads stop starting at this one (a little later than `signal`), so the part can still hand over. */
  readonly uploadSignal?: AbortSignal;
  /** Requests in flight are aborted at this one (later still); default `uploadSignal`. */
  readonly abortSignal?: AbortSignal;
}

export interface LogObjectReport {
  /**
   * `done`: every record is delivered or dead-lettered; `continued`: the rest is in a continuation message;
   * `skipped`: not a log object this function forwards (a CloudTrail digest file); `refused`: the object cannot be
   * read as a log file (dead-lettered with the reason; rows of records read before the fault stay delivered).
   */
  readonly status: 'done' | 'continued' | 'skipped' | 'refused';
  readonly kind?: LogKind;
  readonly part: number;
  readonly reason?: string;
  /** Rows delivered by this part, and by all parts of the object so far. */
  readonly rows: number;
  readonly rowsTotal: number;
  /** Records (lines) refused for good, sent to the DLQ. */
  readonly refused: number;
  /** Trail records not forwarded on purpose (`skipRecord`). */
  readonly skipped: number;
  /** Rows sent again by the next part because a later row of their request batch must be retried. */
  readonly resent: number;
  readonly requests: number;
  /** Stored bytes read by this part, and decoded bytes processed. */
  readonly bytesRead: number;
  readonly bytesDecoded: number;
}

/** A part that could make no progress and must be retried as it is (the queue redelivers it later). */
export class PartRetryError extends BridgeError {
  readonly retryable = true;
}

/** Where the next unit starts: decoded offset plus the reader's own position. */
interface Position {
  readonly offset: number;
  readonly line?: number;
  readonly records?: RecordsResumePoint;
}

interface UnitRefusal {
  readonly unit: number;
  readonly offset: number;
  readonly field: string;
  readonly reason: string;
  readonly text: string;
}

const decoderUtf8 = new TextDecoder('utf-8');

function describe(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error))
    .replace(/\s+/g, ' ')
    .slice(0, 300);
}

/** Kind from the key (AWS's layouts); undefined when the key says nothing (the content decides). */
function kindOfKey(key: string): { kind?: LogKind; skip?: string; refuse?: string } {
  const cls = classifyLogObjectKey(key);
  switch (cls.kind) {
    case 'cloudtrail':
    case 'cloudtrail-insight':
      return { kind: 'cloudtrail' };
    case 'vpcflow':
      return { kind: 'vpcflow' };
    case 'cloudtrail-digest':
      return { skip: 'a CloudTrail digest file (integrity hashes, no events)' };
    case 'vpcflow-parquet':
      return {
        refuse:
          'a VPC Flow Log file in Parquet format: deliver flow logs to this bucket as text (FileFormat plain-text)',
      };
    default:
      return {};
  }
}

export async function forwardLogObject(
  job: LogObjectJob,
  deps: LogObjectDeps,
  signals: LogObjectSignals = {},
): Promise<LogObjectReport> {
  const { object, resume } = job;
  const part = resume?.part ?? 1;
  const flushBytes = deps.flushBytes ?? FLUSH_BYTES;
  let kind: LogKind | undefined = resume?.kind;
  let encoding = resume?.encoding;
  const start: Position = resume
    ? {
        offset: resume.offset,
        ...(resume.line ? { line: resume.line } : {}),
        ...(resume.records ? { records: resume.records } : {}),
      }
    : { offset: 0, line: 1 };

  let rows = 0;
  let refused = 0;
  let skipped = 0;
  let resent = 0;
  let requests = 0;
  let bytesRead = 0;
  let bytesDecoded = 0;
  const letters: DeadLetter[] = [];
  let summarised: number[] = [];

  const report = (status: LogObjectReport['status'], reason?: string): LogObjectReport => ({
    status,
    ...(kind ? { kind } : {}),
    part,
    ...(reason ? { reason } : {}),
    rows,
    rowsTotal: (resume?.rowsSoFar ?? 0) + rows,
    refused,
    skipped,
    resent,
    requests,
    bytesRead,
    bytesDecoded,
  });

  const letterFor = (field: string, reason: string, detail: Record<string, unknown>): DeadLetter => ({
    messageId: job.messageId,
    body: JSON.stringify({
      bucket: object.bucket,
      key: object.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
      kind,
      part,
      ...detail,
    }),
    source: kind ?? 's3-logs',
    field,
    reason,
    itemId: `s3://${object.bucket}/${object.key}`,
  });
  const refuseUnit = (refusal: UnitRefusal): void => {
    refused++;
    if (letters.length < MAX_LETTERS_PER_PART) {
      letters.push(
        letterFor(refusal.field, refusal.reason, {
          [kind === 'vpcflow' ? 'line' : 'recordIndex']: refusal.unit,
          offset: refusal.offset,
          text: refusal.text.slice(0, MAX_LETTER_TEXT),
        }),
      );
    } else summarised.push(refusal.unit);
  };
  /** Sends the letters gathered so far; a DLQ that refuses them fails the part (nothing is dropped). */
  const sendLetters = async (): Promise<void> => {
    if (summarised.length > 0) {
      letters.push(
        letterFor(
          '',
          `${summarised.length} more ${kind === 'vpcflow' ? 'lines' : 'records'} of this part refused (same kinds of reasons as the letters before)`,
          {
            [kind === 'vpcflow' ? 'lines' : 'recordIndexes']: summarised.slice(0, 20_000),
          },
        ),
      );
      summarised = [];
    }
    if (letters.length === 0) return;
    const sent = await deps.deadLetters.send(letters.splice(0), signals.signal);
    if (sent.failed.length > 0) {
      throw new PartRetryError(
        `the dead-letter queue refused ${sent.failed.length} letters (${(sent.errors ?? []).join(', ')})`,
      );
    }
  };

  // --- what the key says, before any read
  if (!resume) {
    const fromKey = kindOfKey(object.key);
    if (fromKey.skip) return report('skipped', fromKey.skip);
    if (fromKey.refuse) {
      await deadLetterObject(fromKey.refuse);
      return report('refused', fromKey.refuse);
    }
    kind = fromKey.kind;
  }
  async function deadLetterObject(reason: string): Promise<void> {
    letters.push(letterFor('', reason, {}));
    await sendLetters();
  }

  // --- the decoder of a continued part first: a malformed checkpoint is refused before any read
  const checkpoint = resume?.checkpoint ?? null;
  let decoder: ResumableDecoder | undefined = resume
    ? checkpoint
      ? deps.decoders.resume(checkpoint)
      : deps.decoders.create(resume.encoding)
    : undefined;

  // --- open the object at the resume point
  let opened: Awaited<ReturnType<LogObjectsPort['open']>>;
  try {
    opened = await deps.objects.open(object, {
      start: checkpoint?.compressedOffset ?? 0,
      ...(resume ? { ifMatch: resume.etag } : {}),
      ...(signals.signal ? { signal: signals.signal } : {}),
    });
  } catch (error) {
    if (error instanceof ObjectReadError && !error.retryable) {
      const reason =
        error.kind === 'changed'
          ? 'the object was replaced after its first part was read; the new object has its own notification'
          : `the object cannot be read: ${error.message}`;
      await deadLetterObject(reason);
      return report('refused', reason);
    }
    throw new PartRetryError(`could not open s3://${object.bucket}/${object.key}: ${describe(error)}`, {
      cause: error,
    });
  }
  const etag = resume?.etag ?? opened.etag;

  // --- readers of decoded bytes
  let skip = resume ? resume.offset - (checkpoint?.outputOffset ?? 0) : 0;
  let position = start.offset; // decoded offset of the next byte handed to the unit reader
  let committed: Position = start;
  /** After the last unit read (uploaded, refused or skipped): where the next part starts once all is sent. */
  let lastAfter: Position = start;
  let format: FlowLogFormat | undefined;
  let header = resume?.header;
  if (kind === 'vpcflow' && header !== undefined) {
    const parsed = parseFlowLogHeader(header);
    if (!parsed.ok)
      throw new PartRetryError(`the continuation's flow log header does not parse: ${parsed.reason}`);
    format = parsed.format;
  }
  let line = start.line ?? 1;
  let splitter: RecordsSplitter | undefined;
  let lastRecords: RecordsResumePoint | undefined = start.records;
  let carry: Uint8Array | undefined;
  let carryDropping = false;
  let sniffed = kind !== undefined;
  let sniffBuffer: Uint8Array | undefined;

  // The batch being read: per row only its unit number and end offset (two numbers, no objects: a batch holds
  // tens of thousands of lines), the position before its first row, and the row JSON to send.
  const pendingUnits: number[] = [];
  const pendingEnds: number[] = [];
  let batchStart: Position = start;
  /** Where the next part starts after unit `unit`, which ends at decoded offset `end`. */
  const positionAfter = (end: number, unit: number): Position =>
    kind === 'vpcflow'
      ? { offset: end, line: unit + 1 }
      : {
          offset: end,
          records: resumePointAfter({ index: unit, end }),
        };
  const texts: string[] = [];
  const sizes: number[] = [];
  let pendingBytes = 0;
  let stopReason: string | undefined;
  let stopAt: Position | undefined;
  const stream = (): string => (kind === 'vpcflow' ? AWS_VPCFLOW.stream : AWS_CLOUDTRAIL.stream);

  /** Uploads the pending rows; everything read before this call is then done (or the part stops). */
  const flush = async (): Promise<void> => {
    // Taken before the first await: while this batch uploads, the next one is being read.
    const after = lastAfter;
    if (pendingUnits.length === 0) {
      await sendLetters();
      committed = after;
      decoder?.commit(committed.offset);
      return;
    }
    const units = pendingUnits.splice(0);
    const ends = pendingEnds.splice(0);
    const first = batchStart;
    const before = (i: number): Position =>
      i === 0 ? first : positionAfter(ends[i - 1] ?? first.offset, units[i - 1] ?? 0);
    const bodies = texts.splice(0);
    const measured = sizes.splice(0);
    pendingBytes = 0;
    const upload = await deps.ingestion.uploadTexts(stream(), bodies, {
      sizes: measured,
      ...(signals.uploadSignal ? { signal: signals.uploadSignal } : {}),
      ...(signals.abortSignal ? { abortSignal: signals.abortSignal } : {}),
    });
    requests += upload.requests;
    let firstRetry: number | undefined;
    const permanent = new Map<number, string>();
    for (const failure of upload.failures) {
      if (failure.permanent)
        permanent.set(
          failure.index,
          `refused by the Logs Ingestion API${failure.status ? ` (HTTP ${failure.status})` : ''}: ${failure.message}`,
        );
      else if (firstRetry === undefined || failure.index < firstRetry) firstRetry = failure.index;
    }
    const limit = firstRetry ?? units.length;
    for (let i = 0; i < units.length; i++) {
      const refusal = permanent.get(i);
      if (i < limit) {
        // The letter carries the row as sent (the line's fields by name), the raw line is not kept.
        if (refusal !== undefined)
          refuseUnit({
            unit: units[i] ?? 0,
            offset: before(i).offset,
            field: '',
            reason: refusal,
            text: bodies[i] ?? '',
          });
        else rows++;
      } else if (refusal === undefined && !upload.failures.some((f) => f.index === i)) resent++;
    }
    if (firstRetry !== undefined) {
      const failure = upload.failures.find((f) => f.index === firstRetry);
      stopReason = `the Logs Ingestion API did not take every row (${failure?.message ?? 'retryable failure'})`;
      stopAt = before(firstRetry);
    }
    committed = stopAt ?? after;
    decoder?.commit(committed.offset);
    await sendLetters();
  };

  // One batch uploads while the next is read and normalised (at most two batches in memory).
  let inFlight: Promise<void> | undefined;
  const settle = async (): Promise<void> => {
    const flushing = inFlight;
    inFlight = undefined;
    if (flushing) await flushing;
  };
  const startFlush = (): void => {
    const flushing = flush();
    flushing.catch(() => undefined); // awaited by settle(); never an unhandled rejection meanwhile
    inFlight = flushing;
  };
  /** The last upload: nothing after a row the API must take again (the next part starts there). */
  const finalFlush = async (): Promise<void> => {
    await settle();
    if (stopAt === undefined) await flush();
    else await sendLetters();
  };

  const addRow = (unit: number, end: number, json: string, bytes: number): void => {
    if (pendingUnits.length === 0) batchStart = lastAfter;
    pendingUnits.push(unit);
    pendingEnds.push(end);
    texts.push(json);
    sizes.push(bytes);
    pendingBytes += bytes;
  };

  const onLine = (text: string, lineStart: number, lineEnd: number): void => {
    const number = line++;
    const after: Position = { offset: lineEnd, line: number + 1 };
    const clean = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (format === undefined) {
      // The first line of a flow log file is its header.
      const parsed = parseFlowLogHeader(clean);
      if (!parsed.ok)
        throw new NotALogFile(`not a VPC Flow Log file: line 1 is not a header (${parsed.reason})`);
      format = parsed.format;
      header = clean;
      lastAfter = after;
      return;
    }
    if (clean.trim() === '') {
      lastAfter = after;
      return;
    }
    const outcome = normaliseFlowLogLine(format, clean, number);
    if (!outcome.ok) {
      refuseUnit({
        unit: number,
        offset: lineStart,
        field: outcome.field,
        reason: outcome.reason,
        text: clean,
      });
      lastAfter = after;
      return;
    }
    const limited = applyIngestionLimits(outcome.row, AWS_VPCFLOW.columns);
    addRow(number, lineEnd, limited.json, limited.bytes);
    lastAfter = after;
  };

  const onRecord = (slice: ReturnType<RecordsSplitter['push']>[number]): void => {
    const point = resumePointAfter(slice);
    const after: Position = { offset: slice.end, records: point };
    lastRecords = point;
    if (!slice.ok) {
      refuseUnit({
        unit: slice.index,
        offset: slice.start,
        field: '',
        reason:
          slice.reason === 'too-large'
            ? `record of ${slice.size} bytes is larger than a record can be`
            : 'record is not valid UTF-8',
        text: slice.preview,
      });
      lastAfter = after;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(slice.text);
    } catch {
      refuseUnit({
        unit: slice.index,
        offset: slice.start,
        field: '',
        reason: 'record is not valid JSON',
        text: slice.text,
      });
      lastAfter = after;
      return;
    }
    if (
      deps.skipRecord &&
      typeof value === 'object' &&
      value !== null &&
      deps.skipRecord(value as Record<string, unknown>)
    ) {
      skipped++;
      lastAfter = after;
      return;
    }
    let outcome: ReturnType<typeof normaliseItem>;
    try {
      outcome = normaliseItem('cloudtrail', value);
    } catch {
      outcome = { ok: false, field: '', reason: 'the record is nested too deeply to process' };
    }
    if (!outcome.ok) {
      refuseUnit({
        unit: slice.index,
        offset: slice.start,
        field: outcome.field,
        reason: outcome.reason,
        text: slice.text,
      });
      lastAfter = after;
      return;
    }
    addRow(slice.index, slice.end, outcome.json, outcome.bytes);
    lastAfter = after;
  };

  /** Lines of decoded bytes: whole lines are decoded per chunk, the tail waits for the next one. */
  const feedLines = (bytes: Uint8Array, at: number): void => {
    let data = bytes;
    let base = at;
    if (carry) {
      const joined = new Uint8Array(carry.length + bytes.length);
      joined.set(carry);
      joined.set(bytes, carry.length);
      base = at - carry.length;
      data = joined;
      carry = undefined;
    }
    let from = 0;
    if (carryDropping) {
      const nl = data.indexOf(10);
      if (nl === -1) return;
      carryDropping = false;
      lastAfter = { offset: base + nl + 1, line };
      from = nl + 1;
    }
    const lastNl = data.lastIndexOf(10);
    if (lastNl >= from) {
      // One decode per chunk; byte offsets from the newline bytes (0x0a is never inside a UTF-8 sequence, so the
      // n-th newline of the text is the n-th newline byte).
      const block = decoderUtf8.decode(data.subarray(from, lastNl + 1));
      let i = 0;
      let b = from;
      while (i < block.length) {
        const nl = block.indexOf('\n', i);
        const byteNl = data.indexOf(10, b);
        onLine(block.slice(i, nl), base + b, base + byteNl + 1);
        i = nl + 1;
        b = byteNl + 1;
      }
    }
    const tail = data.subarray(Math.max(from, lastNl + 1));
    if (tail.length > MAX_LINE_BYTES) {
      refuseUnit({
        unit: line++,
        offset: base + data.length - tail.length,
        field: '',
        reason: `line longer than ${MAX_LINE_BYTES} bytes`,
        text: decoderUtf8.decode(tail.subarray(0, 200)),
      });
      carryDropping = true;
    } else if (tail.length > 0) carry = tail.slice();
  };

  const feedDecoded = (bytes: Uint8Array): void => {
    let data = bytes;
    if (skip > 0) {
      const dropped = Math.min(skip, data.length);
      skip -= dropped;
      data = data.subarray(dropped);
      if (data.length === 0) return;
    }
    if (!sniffed) {
      // No kind from the key: a trail file starts with `{`, a flow log file with its header line.
      const joined: Uint8Array = sniffBuffer ? concat(sniffBuffer, data) : data;
      let i = 0;
      while (
        i < joined.length &&
        (joined[i] === 32 ||
          joined[i] === 10 ||
          joined[i] === 13 ||
          joined[i] === 9 ||
          joined[i] === 0xef ||
          joined[i] === 0xbb ||
          joined[i] === 0xbf)
      )
        i++;
      if (i === joined.length) {
        sniffBuffer = joined.slice();
        return;
      }
      kind = joined[i] === 123 ? 'cloudtrail' : 'vpcflow';
      sniffed = true;
      sniffBuffer = undefined;
      data = joined;
    }
    bytesDecoded += data.length;
    const at = position;
    position += data.length;
    if (kind === 'vpcflow') feedLines(data, at);
    else {
      splitter ??= lastRecords
        ? createRecordsSplitter({ resume: lastRecords, input: 'from-offset' })
        : createRecordsSplitter();
      for (const slice of splitter.push(data)) onRecord(slice);
    }
  };

  const finish = (): void => {
    if (kind === 'vpcflow') {
      if (carry && carry.length > 0) {
        const tail = carry;
        carry = undefined;
        const text = decoderUtf8.decode(tail);
        onLine(text, position - tail.length, position);
      }
      if (format === undefined && !carryDropping)
        throw new NotALogFile('not a VPC Flow Log file: it is empty (no header line)');
    } else if (kind === 'cloudtrail') {
      splitter ??= lastRecords
        ? createRecordsSplitter({ resume: lastRecords, input: 'from-offset' })
        : createRecordsSplitter();
      for (const slice of splitter.end()) onRecord(slice);
    } else throw new NotALogFile('the object is empty');
  };

  // --- the read loop
  let ended = false;
  try {
    const iterator = opened.body[Symbol.asyncIterator]();
    let head: Uint8Array | undefined;
    try {
      for (;;) {
        if (signals.signal?.aborted) {
          stopReason = 'the time budget of this invocation is spent';
          break;
        }
        const next = await iterator.next();
        if (next.done) {
          ended = true;
          break;
        }
        let chunk = next.value;
        bytesRead += chunk.length;
        if (!decoder) {
          // The encoding from the first bytes: 1f 8b is gzip (whatever the key's extension says).
          head = head ? concat(head, chunk) : chunk;
          if (head.length < 2) continue;
          encoding = deps.decoders.detect(head);
          decoder = deps.decoders.create(encoding);
          chunk = head;
        }
        for (const out of decoder.push(chunk)) feedDecoded(out);
        if (pendingBytes >= flushBytes) {
          await settle();
          if (stopReason) break;
          startFlush();
        }
        if (stopReason) break;
      }
    } catch (error) {
      if (error instanceof NotALogFile || error instanceof RecordsStreamError || isGunzipError(error))
        throw error;
      if (error instanceof PartRetryError) throw error;
      stopReason = `reading the object failed: ${describe(error)}`;
    } finally {
      if (!ended) await iterator.return?.().catch(() => undefined);
    }
    if (ended && !stopReason) {
      if (!decoder) {
        encoding = 'plain';
        decoder = deps.decoders.create('plain');
        if (head) for (const out of decoder.push(head)) feedDecoded(out);
      }
      for (const out of decoder.end()) feedDecoded(out);
      finish();
    }
  } catch (error) {
    if (error instanceof NotALogFile || error instanceof RecordsStreamError || isGunzipError(error)) {
      // What was read before the fault is delivered; the object itself is dead-lettered with the reason.
      const reason = error instanceof Error ? error.message : String(error);
      await finalFlush();
      if (stopReason === undefined) {
        await deadLetterObject(`${reason} (at decoded byte ${position})`);
        return report('refused', reason);
      }
    } else throw error;
  }

  await finalFlush();
  if (!stopReason) return report('done');

  // --- hand the rest over
  const resumeFrom = stopAt ?? committed;
  if (
    resumeFrom.offset === start.offset &&
    (resumeFrom.records?.state.nextIndex ?? resumeFrom.line) ===
      (start.records?.state.nextIndex ?? start.line) &&
    rows === 0 &&
    refused === 0 &&
    skipped === 0
  ) {
    // Nothing moved: this same part is retried later by the queue (its visibility timeout is the back-off).
    throw new PartRetryError(
      `no progress on s3://${object.bucket}/${object.key} part ${part}: ${stopReason}`,
    );
  }
  if (!decoder || !kind || !encoding)
    throw new PartRetryError(`stopped before the object's format was known: ${stopReason}`);
  const cp = decoder.checkpointAtOrBefore(resumeFrom.offset) ?? checkpoint;
  const state: ResumeState = {
    v: 1,
    kind,
    encoding,
    etag,
    part: part + 1,
    checkpoint: cp && cp.outputOffset <= resumeFrom.offset ? cp : null,
    offset: resumeFrom.offset,
    ...(kind === 'vpcflow' && header !== undefined ? { header } : {}),
    ...(kind === 'vpcflow' ? { line: resumeFrom.line ?? line } : {}),
    ...(kind === 'cloudtrail' && resumeFrom.records ? { records: resumeFrom.records } : {}),
    rowsSoFar: (resume?.rowsSoFar ?? 0) + rows,
  };
  try {
    await deps.continuations.send(continuationBody(object, state), undefined);
  } catch (error) {
    throw new PartRetryError(`the continuation could not be sent (${describe(error)}); the part is retried`, {
      cause: error,
    });
  }
  return report('continued', stopReason);
}

/** The content is not a log file this function reads (dead-lettered with the reason). */
class NotALogFile extends Error {
  override readonly name = 'NotALogFile';
}

function isGunzipError(error: unknown): boolean {
  return error instanceof Error && error.name === 'GunzipError';
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
