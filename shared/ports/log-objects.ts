/** An S3 object holding log files (a CloudTrail trail file or a VPC Flow Log file). */
export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

export interface OpenedObject {
  /** ETag of the object read; continuations pin it (If-Match), so a replaced object is never mixed in. */
  readonly etag: string;
  readonly versionId?: string;
  /** Total size of the stored object in bytes. */
  readonly size: number;
  /** The stored bytes from the requested offset to the end, as they arrive. */
  readonly body: AsyncIterable<Uint8Array>;
}

export interface OpenOptions {
  /** First byte to read (a Range request from there to the end). */
  readonly start: number;
  /** Refuse to read when the object's ETag differs (it was replaced since the first part was read). */
  readonly ifMatch?: string;
  readonly signal?: AbortSignal;
}

/** Why an object cannot be read, and whether trying again later can help. */
export class ObjectReadError extends Error {
  constructor(
    message: string,
    /** `gone`: deleted; `changed`: replaced since the first part; `denied`: no permission; `other`. */
    readonly kind: 'gone' | 'changed' | 'denied' | 'other',
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ObjectReadError';
  }
}

/** Port to the object store (S3 GetObject). Errors are `ObjectReadError`s. */
export interface LogObjectsPort {
  open(ref: ObjectRef, options: OpenOptions): Promise<OpenedObject>;
}

/** Port to the queue that carries the rest of an object to the next invocation. Throws when not sent. */
export interface ContinuationPort {
  send(body: string, signal?: AbortSignal): Promise<void>;
}
