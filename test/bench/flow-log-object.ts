/**
 * Deterministic, realistic VPC Flow Log objects for the `s3Logs` figures, written streaming to a file
 * (`.log.gz`, as AWS delivers them), so that an object of 100 MB compressed (about 1 GB of text) is never
 * held in memory at once.
 *
 * The lines are in the default format (version 2, 14 fields) and vary as real ones do: records come per
 * interface and capture window (those of one window share its start and end, as AWS writes them), from a few
 * hundred interfaces with a few dozen flows each (internal and public addresses, well-known and ephemeral
 * ports, TCP, UDP and ICMP, some REJECTs), drawn with a skew (a few flows talk a lot, most rarely), packet and
 * byte counts spread over orders of magnitude, and about 1% NODATA / SKIPDATA records with `-` fields.
 * With gzip level 6 they compress about 8.3x (about 110 bytes per line), in the range of real flow log files.
 */
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { DEFAULT_HEADER } from '../support/flow-logs.js';

/** Small seeded PRNG (mulberry32): the same seed gives the same object. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ACCOUNT = '123456789012';
/** 2025-11-24T16:00:00Z: the start of the file's 10-minute window. */
const WINDOW_START = 1_764_000_000;
const INTERFACES = 400;
const FLOWS_PER_INTERFACE = 40;
const WELL_KNOWN = [443, 443, 443, 443, 80, 53, 53, 22, 3306, 5432, 6379, 8080, 123, 3389, 9092, 2049];
/** Typical packet sizes: ACKs, small requests, full segments. */
const PACKET_BYTES = [40, 52, 52, 60, 76, 120, 350, 1500, 1500, 9001];

interface Flow {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly protocol: number;
  readonly action: string;
  /** Packets per capture window, roughly. */
  readonly rate: number;
}

interface Interface {
  readonly eni: string;
  readonly flows: readonly Flow[];
}

/**
 * Line generator: `next()` returns the next record (without newline). Records come as AWS writes them: per
 * interface and capture window (the records of one window share its start and end), a few to a few dozen
 * flows each, the busy ones again and again.
 */
export function flowLogLines(seed = 6): { readonly header: string; next(): string } {
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;
  const hex = (digits: number): string => {
    let out = '';
    for (let i = 0; i < digits; i++) out += '0123456789abcdef'[int(16)];
    return out;
  };
  const internal = (): string => `10.${int(4)}.${int(64)}.${1 + int(254)}`;
  const external = (): string =>
    // Some heavy hitters (AWS endpoints), the rest the whole address space.
    random() < 0.4 ? `52.94.${int(8)}.${int(256)}` : `${1 + int(223)}.${int(256)}.${int(256)}.${int(256)}`;
  const interfaces: Interface[] = Array.from({ length: INTERFACES }, () => {
    const local = internal();
    return {
      eni: `eni-${hex(17)}`,
      flows: Array.from({ length: FLOWS_PER_INTERFACE }, () => {
        const protocol = random() < 0.85 ? 6 : random() < 0.9 ? 17 : 1;
        const icmp = protocol === 1;
        const inbound = random() < 0.4;
        const remote = random() < 0.6 ? internal() : external();
        const ephemeral = icmp ? 0 : 32_768 + int(28_232);
        const service = icmp ? 0 : pick(WELL_KNOWN);
        return {
          src: inbound ? remote : local,
          dst: inbound ? local : remote,
          srcPort: inbound ? ephemeral : ephemeral,
          dstPort: service,
          protocol,
          action: inbound && random() < 0.2 ? 'REJECT' : 'ACCEPT',
          rate: Math.max(1, Math.floor(Math.exp(random() * 7))),
        };
      }),
    };
  });
  // The current capture window: interface, start, end, records left.
  let current: Interface = interfaces[0] as Interface;
  let start = WINDOW_START;
  let end = WINDOW_START + 60;
  let left = 0;
  return {
    header: DEFAULT_HEADER,
    next(): string {
      if (left === 0) {
        current = interfaces[Math.floor(INTERFACES * random() ** 2)] as Interface;
        start = WINDOW_START + int(540);
        end = start + 50 + int(11);
        left = 1 + int(40);
        if (random() < 0.01) {
          left = 0;
          return `2 ${ACCOUNT} ${current.eni} - - - - - - - ${start} ${end} - ${random() < 0.8 ? 'NODATA' : 'SKIPDATA'}`;
        }
      }
      left--;
      const flow = current.flows[Math.floor(FLOWS_PER_INTERFACE * random() ** 3)] as Flow;
      const packets = Math.max(1, Math.round(flow.rate * (0.5 + random())));
      const bytes = packets * pick(PACKET_BYTES);
      return `2 ${ACCOUNT} ${current.eni} ${flow.src} ${flow.dst} ${flow.srcPort} ${flow.dstPort} ${flow.protocol} ${packets} ${bytes} ${start} ${end} ${flow.action} OK`;
    },
  };
}

export interface FlowLogObjectFile {
  readonly file: string;
  /** Records, header not counted. */
  readonly lines: number;
  /** Bytes of the stored (gzipped) object. */
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
}

/**
 * Writes a gzipped flow log file: exactly `lines` records, or (with `minCompressedBytes`) records until the
 * compressed output reaches that size. Streaming, with back-pressure: memory stays at a few MiB.
 */
export async function writeFlowLogObject(
  file: string,
  target: { readonly lines: number } | { readonly minCompressedBytes: number },
  seed = 6,
): Promise<FlowLogObjectFile> {
  const source = flowLogLines(seed);
  const gzip = createGzip({ level: 6 });
  const out = createWriteStream(file);
  let compressedBytes = 0;
  gzip.on('data', (chunk: Buffer) => {
    compressedBytes += chunk.length;
  });
  const piped = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
    gzip.once('error', reject);
  });
  gzip.pipe(out);
  const done = (lines: number): boolean =>
    'lines' in target ? lines >= target.lines : compressedBytes >= target.minCompressedBytes;
  let lines = 0;
  let uncompressedBytes = 0;
  // Each write waits until zlib has taken it in, so the compressed size at every check (and therefore the
  // number of lines of a `minCompressedBytes` object) is the same on every run.
  const write = async (text: string): Promise<void> => {
    uncompressedBytes += Buffer.byteLength(text);
    await new Promise<void>((resolve, reject) => {
      gzip.write(text, (error) => (error ? reject(error) : resolve()));
    });
  };
  await write(`${source.header}\n`);
  const batch: string[] = [];
  while (!done(lines)) {
    // 1,000 lines per write: fewer calls into zlib, and the compressed size is checked often enough.
    const count = 'lines' in target ? Math.min(1_000, target.lines - lines) : 1_000;
    for (let i = 0; i < count; i++) batch.push(source.next());
    lines += count;
    await write(`${batch.join('\n')}\n`);
    batch.length = 0;
  }
  gzip.end();
  await piped;
  return { file, lines, compressedBytes, uncompressedBytes };
}
