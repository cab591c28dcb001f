import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type LogObjectsPort, ObjectReadError, type OpenedObject } from '../../ports/log-objects.js';

function errorName(error: unknown): string {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
}

function statusOf(error: unknown): number | undefined {
  const meta =
    typeof error === 'object' && error !== null
      ? (error as { $metadata?: { httpStatusCode?: number } }).$metadata
      : undefined;
  return meta?.httpStatusCode;
}

/** `bytes 100-199/1000` -> 1000. */
function totalOf(contentRange: string | undefined): number | undefined {
  const m = contentRange ? /\/(\d+)$/.exec(contentRange) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * S3 GetObject with a Range from the resume offset and If-Match on the first part's ETag. The body is the
 * SDK's Node stream (an async iterable of Buffers): nothing is buffered here.
 */
export function createS3LogObjects(client: S3Client): LogObjectsPort {
  return {
    async open(ref, options): Promise<OpenedObject> {
      try {
        const out = await client.send(
          new GetObjectCommand({
            Bucket: ref.bucket,
            Key: ref.key,
            ...(ref.versionId ? { VersionId: ref.versionId } : {}),
            ...(options.start > 0 ? { Range: `bytes=${options.start}-` } : {}),
            ...(options.ifMatch ? { IfMatch: options.ifMatch } : {}),
          }),
          options.signal ? { abortSignal: options.signal } : {},
        );
        const body = out.Body as unknown as AsyncIterable<Uint8Array> | undefined;
        if (
          !body ||
          typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== 'function'
        ) {
          throw new ObjectReadError('GetObject returned no readable body', 'other', true);
        }
        return {
          etag: out.ETag ?? '',
          ...(out.VersionId ? { versionId: out.VersionId } : {}),
          size: totalOf(out.ContentRange) ?? options.start + (out.ContentLength ?? 0),
          body,
        };
      } catch (error) {
        if (error instanceof ObjectReadError) throw error;
        const name = errorName(error);
        const status = statusOf(error);
        const message = `${name || 'Error'}${status ? ` (HTTP ${status})` : ''}`;
        if (name === 'NoSuchKey' || name === 'NoSuchBucket' || name === 'NoSuchVersion' || status === 404)
          throw new ObjectReadError(`${message}: the object does not exist (deleted?)`, 'gone', false, {
            cause: error,
          });
        if (name === 'PreconditionFailed' || status === 412)
          throw new ObjectReadError(`${message}: the object changed`, 'changed', false, { cause: error });
        if ((name === 'InvalidRange' || status === 416) && options.start > 0) {
          // A part that stopped after the object's last byte: S3 checks If-Match before the range, so this is
          // the same object, and there is nothing left to read but the end of the stream.
          return { etag: options.ifMatch ?? '', size: options.start, body: (async function* () {})() };
        }
        if (name === 'InvalidRange' || status === 416)
          throw new ObjectReadError(`${message}: the object is shorter than before`, 'changed', false, {
            cause: error,
          });
        if (name === 'AccessDenied' || status === 403)
          throw new ObjectReadError(
            `${message}: access denied (check the function's s3:GetObject and kms:Decrypt permissions)`,
            'denied',
            true,
            { cause: error },
          );
        throw new ObjectReadError(message, 'other', true, { cause: error });
      }
    },
  };
}
