import type { Row } from '../domain/rows/row.js';

/** Why one row was not accepted by the Logs Ingestion API. */
export interface UploadFailure {
  /** Index of the row in the array given to `upload`. */
  readonly index: number;
  readonly message: string;
  readonly status?: number;
  /** True when the same row can never succeed (e.g. 413 for a request that holds only this row). */
  readonly permanent: boolean;
}

export interface UploadReport {
  readonly failures: readonly UploadFailure[];
  /** HTTP requests made (chunks sent), successful or not. */
  readonly requests: number;
  /** Bytes of uncompressed JSON sent. */
  readonly bytes: number;
}

export interface UploadOptions {
  /** Stops starting requests once aborted; rows not sent are reported as (retryable) failures. */
  readonly signal?: AbortSignal;
  /**
   * Aborts requests in flight (default: `signal`). A later deadline than `signal` lets requests already sent
   * finish: an aborted request may still have been stored by the service, and its rows would be sent twice.
   */
  readonly abortSignal?: AbortSignal;
  /** Exact bytes of each row's JSON text, when the caller has measured them (saves a serialisation). */
  readonly sizes?: readonly number[];
}

/** Port to the Azure Monitor Logs Ingestion API (a DCR stream). Implementations never throw for row failures. */
export interface LogsIngestionPort {
  upload(stream: string, rows: readonly Row[], options?: UploadOptions): Promise<UploadReport>;
  /**
   * The same for rows the caller has already serialised (each row's JSON text, sent as is): the forwarder
   * measures every row's JSON for the limits anyway, and keeping only the text lets the row objects go.
   */
  uploadTexts(stream: string, texts: readonly string[], options?: UploadOptions): Promise<UploadReport>;
}
