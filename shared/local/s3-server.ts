/**
 * A local stand-in for Amazon S3's object reads, for tests, the bench and the offline demo: the real
 * `@aws-sdk/client-s3` talks to it over HTTP with path-style addressing (`forcePathStyle: true`).
 *
 * It follows the parts of the REST API the s3-logs Lambda uses: `GET /<bucket>/<key>` (GetObject) with
 * `Range: bytes=<first>-[<last>]` (206 with `Content-Range`, 416 `InvalidRange` past the end), `If-Match`
 * (412 `PreconditionFailed` when the ETag differs), `versionId`, `HEAD`, SigV4 `Authorization` required
 * (403 `AccessDenied` without it, as an unsigned request to a private bucket gets), XML error bodies with
 * `Code`, `Message` and `RequestId`, 404 `NoSuchBucket` / `NoSuchKey`.
 *
 * It records every byte range it served per object, so a test can prove that an object was read once,
 * from the start to the end, however many invocations and continuations that took; and it can cut a
 * response short after N bytes (a connection reset mid-body) to test resumption after a broken stream.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeOnSignal, listen, runIfEntryPoint } from './https-server.js';

export interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
  readonly versionId: string;
  readonly contentType: string;
  readonly lastModified: Date;
}

export interface ServedRange {
  readonly bucket: string;
  readonly key: string;
  /** First byte served (inclusive) and the byte after the last one actually written. */
  readonly start: number;
  readonly end: number;
  readonly status: number;
}

export interface S3ServerOptions {
  readonly port?: number;
  /** Bytes sent per write (default 64 KiB), so clients see a stream of chunks as from the real service. */
  readonly chunkBytes?: number;
}

export interface LocalS3Server {
  /** `http://127.0.0.1:<port>`: give it to S3Client as `endpoint` with `forcePathStyle: true`. */
  readonly endpoint: string;
  putObject(bucket: string, key: string, body: Buffer | string, contentType?: string): StoredObject;
  deleteObject(bucket: string, key: string): void;
  /** Every range served, in order. */
  readonly served: readonly ServedRange[];
  /** Total bytes of one object sent to clients (all responses). */
  bytesServed(bucket: string, key: string): number;
  /** The next GetObject of this object stops (connection destroyed) after this many body bytes. */
  cutNextResponseAfter(bucket: string, key: string, bytes: number): void;
  reset(): void;
  close(): Promise<void>;
}

function xmlEscape(value: string): string {
  return value.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );
}

function errorBody(code: string, message: string, resource: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
}

/** `bytes=first-[last]` (one range; suffix ranges `bytes=-n` too). Undefined when absent or unparsable. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // S3 ignores a Range header it cannot parse and sends the whole object
  const [, first, last] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'invalid';
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(first);
  if (start >= size) return 'invalid';
  const end = last === '' ? size : Math.min(size, Number(last) + 1);
  if (end <= start) return undefined;
  return { start, end };
}

export async function startLocalS3Server(options: S3ServerOptions = {}): Promise<LocalS3Server> {
  const buckets = new Map<string, Map<string, StoredObject>>();
  const served: ServedRange[] = [];
  const cuts = new Map<string, number>();
  const chunkBytes = Math.max(1, options.chunkBytes ?? 64 * 1024);
  let version = 0;

  const reply = (
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    resource: string,
    requestId: string,
    head: boolean,
  ): void => {
    const body = errorBody(code, message, resource, requestId);
    res.writeHead(status, {
      'content-type': 'application/xml',
      'x-amz-request-id': requestId,
      'content-length': head ? 0 : Buffer.byteLength(body),
    });
    res.end(head ? undefined : body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
    const head = req.method === 'HEAD';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const resource = decodeURIComponent(url.pathname);
    if (req.method !== 'GET' && !head) {
      reply(
        res,
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        resource,
        requestId,
        head,
      );
      return;
    }
    const authorization = req.headers.authorization ?? '';
    if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) {
      reply(res, 403, 'AccessDenied', 'Access Denied', resource, requestId, head);
      return;
    }
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const bucket = buckets.get(decodeURIComponent(bucketName));
    if (!bucket) {
      reply(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', resource, requestId, head);
      return;
    }
    const key = decodeURIComponent(keyParts.join('/'));
    const object = bucket.get(key);
    const wantedVersion = url.searchParams.get('versionId');
    if (!object || (wantedVersion !== null && wantedVersion !== object.versionId)) {
      reply(res, 404, 'NoSuchKey', 'The specified key does not exist.', resource, requestId, head);
      return;
    }
    const ifMatch = req.headers['if-match'];
    if (
      ifMatch !== undefined &&
      ifMatch !== '*' &&
      ifMatch.replace(/"/g, '') !== object.etag.replace(/"/g, '')
    ) {
      reply(
        res,
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
        resource,
        requestId,
        head,
      );
      return;
    }
    const size = object.body.length;
    const range = parseRange(req.headers.range, size);
    if (range === 'invalid') {
      reply(res, 416, 'InvalidRange', 'The requested range is not satisfiable', resource, requestId, head);
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size;
    const status = range ? 206 : 200;
    res.writeHead(status, {
      'content-type': object.contentType,
      'content-length': end - start,
      etag: object.etag,
      'last-modified': object.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
      'x-amz-request-id': requestId,
      'x-amz-version-id': object.versionId,
      ...(range ? { 'content-range': `bytes ${start}-${end - 1}/${size}` } : {}),
    });
    if (head) {
      res.end();
      return;
    }
    const cutKey = `${bucketName}/${key}`;
    const cut = cuts.get(cutKey);
    cuts.delete(cutKey);
    const stopAt = cut === undefined ? end : Math.min(end, start + cut);
    let offset = start;
    const record = (): void => {
      served.push({ bucket: decodeURIComponent(bucketName), key, start, end: offset, status });
    };
    // Writes in chunks with back-pressure, like a real socket; a cut destroys the connection mid-body.
    const pump = (): void => {
      while (offset < stopAt) {
        const next = Math.min(stopAt, offset + chunkBytes);
        const ok = res.write(object.body.subarray(offset, next));
        offset = next;
        if (!ok) {
          res.once('drain', pump);
          return;
        }
      }
      record();
      if (stopAt < end) res.destroy();
      else res.end();
    };
    res.once('close', () => {
      if (offset < stopAt) record();
    });
    pump();
  };

  const server: Server = createServer(handle);
  await listen(server, options.port ?? 0);
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    putObject(bucketName, key, body, contentType = 'application/octet-stream') {
      const data = typeof body === 'string' ? Buffer.from(body) : body;
      const object: StoredObject = {
        body: data,
        etag: `"${createHash('md5').update(data).digest('hex')}"`,
        versionId: `v${++version}`,
        contentType,
        lastModified: new Date(),
      };
      const bucket = buckets.get(bucketName) ?? new Map<string, StoredObject>();
      bucket.set(key, object);
      buckets.set(bucketName, bucket);
      return object;
    },
    deleteObject(bucketName, key) {
      buckets.get(bucketName)?.delete(key);
    },
    served,
    bytesServed(bucketName, key) {
      return served
        .filter((r) => r.bucket === bucketName && r.key === key)
        .reduce((sum, r) => sum + (r.end - r.start), 0);
    },
    cutNextResponseAfter(bucketName, key, bytes) {
      cuts.set(`${bucketName}/${key}`, bytes);
    },
    reset() {
      buckets.clear();
      served.length = 0;
      cuts.clear();
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

runIfEntryPoint(import.meta.url, async () => {
  const server = await startLocalS3Server({ port: Number(process.env.PORT ?? 0) });
  console.log(`local S3 listening on ${server.endpoint} (path-style)`);
  closeOnSignal(() => server.close());
});
