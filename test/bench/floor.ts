/**
 * The physical floor of forwarding: rows that are already normalised, doing only what any uploader must do,
 * `JSON.stringify` + gzip + HTTPS POST to the same local server, in chunks cut by the same rule as the adapter
 * (`chunkRows`: bodies up to 1 MiB, so both make the same number of requests) with the same concurrency.
 * No validation, no SDK pipeline, no retries, no bookkeeping: whatever the real handler spends above this
 * is overhead of the product or its libraries.
 */
import { Agent, request } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { chunkRows } from '../../shared/adapters/azure/logs-ingestion.js';
import type { Row } from '../../shared/domain/rows/row.js';

const gzip = promisify(gzipCallback);

export interface FloorTarget {
  readonly endpoint: string;
  readonly ca: string;
  readonly token: string;
  readonly dcrImmutableId: string;
  readonly stream: string;
}

export interface FloorUploader {
  /** Uploads every row; resolves once all requests were answered 204 (rejects otherwise). */
  upload(rows: readonly Row[]): Promise<{ requests: number; bytes: number }>;
  close(): void;
}

export function createFloorUploader(target: FloorTarget, concurrency = 5): FloorUploader {
  const url = new URL(
    `/dataCollectionRules/${encodeURIComponent(target.dcrImmutableId)}/streams/${encodeURIComponent(target.stream)}?api-version=2023-01-01`,
    target.endpoint,
  );
  // Keep-alive, like the SDK's pipeline: connections are set up once, not per request.
  const agent = new Agent({ keepAlive: true, ca: target.ca });

  const post = (body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${target.token}`,
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            'content-length': String(body.length),
          },
        },
        (res) => {
          res.resume();
          res.once('end', () => {
            if (res.statusCode === 204) resolve();
            else reject(new Error(`floor upload answered HTTP ${res.statusCode}`));
          });
          res.once('error', reject);
        },
      );
      req.once('error', reject);
      req.end(body);
    });

  const send = async (parts: readonly string[]): Promise<void> => {
    await post(await gzip(`[${parts.join(',')}]`));
  };

  return {
    async upload(rows) {
      const inFlight = new Set<Promise<void>>();
      const errors: unknown[] = [];
      let requests = 0;
      let bytes = 0;
      const dispatch = async (parts: string[]): Promise<void> => {
        while (inFlight.size >= concurrency) await Promise.race(inFlight);
        requests++;
        const task = send(parts).catch((error: unknown) => {
          errors.push(error);
        });
        const tracked = task.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      };
      const texts = rows.map((row) => JSON.stringify(row));
      const sizes = texts.map((text) => Buffer.byteLength(text, 'utf8'));
      for (const size of sizes) bytes += size;
      for (const chunk of chunkRows(sizes)) await dispatch(chunk.indices.map((i) => texts[i] as string));
      await Promise.all(inFlight);
      if (errors.length > 0) throw errors[0];
      return { requests, bytes };
    },
    close() {
      agent.destroy();
    },
  };
}
