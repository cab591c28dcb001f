/**
 * An HTTPS proxy in front of the local Logs Ingestion server that loses responses: it forwards a request,
 * and when the server has accepted it (204) it may cut the client's connection instead of answering. The rows
 * are stored, yet the client sees a dropped connection and sends them again: the one failure no client of the
 * Logs Ingestion API can tell apart from a real one (the API has no idempotency key), so the only source of
 * duplicates the bridge cannot avoid. The proxy remembers the item ids of every request whose answer it lost.
 */

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { gunzipSync } from 'node:zlib';
import { startLocalHttpsServer } from '../../../shared/local/https-server.js';

export interface LossyProxy {
  readonly endpoint: string;
  readonly ca: string;
  /** Accepted requests whose answer was lost. */
  readonly lostResponses: number;
  /** `Id` / `AwsEventId` of every row of those requests. */
  readonly lostIds: ReadonlySet<string>;
  close(): Promise<void>;
}

export interface LossyProxyOptions {
  /** The server behind the proxy. */
  readonly target: { readonly port: number; readonly ca: string };
  /** Decides, for each accepted request (numbered from 1), whether its answer is lost. */
  readonly loseResponse: (accepted: number) => boolean;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    stream.on('aborted', () => reject(new Error('aborted')));
  });
}

function idsOf(body: Buffer, headers: IncomingHttpHeaders): string[] {
  const text = (headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
  const rows = JSON.parse(text) as Record<string, unknown>[];
  return rows.map((row) => String(row.Id ?? row.AwsEventId));
}

export async function startLossyProxy(options: LossyProxyOptions): Promise<LossyProxy> {
  const { server, port, ca, removeFiles } = await startLocalHttpsServer('lossy-proxy');
  const agent = new Agent({ keepAlive: true, ca: options.target.ca, maxSockets: 32 });
  const lostIds = new Set<string>();
  let lostResponses = 0;
  let accepted = 0;

  const forward = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readAll(req);
    const upstream = await new Promise<{ response: IncomingMessage; body: Buffer }>((resolve, reject) => {
      const out = httpsRequest(
        {
          host: '127.0.0.1',
          port: options.target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (response) => {
          readAll(response).then((data) => resolve({ response, body: data }), reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
    const status = upstream.response.statusCode ?? 0;
    if (status === 204) {
      accepted += 1;
      if (options.loseResponse(accepted)) {
        lostResponses += 1;
        for (const id of idsOf(body, req.headers)) lostIds.add(id);
        req.socket.destroy();
        return;
      }
    }
    res.writeHead(status, upstream.response.headers).end(upstream.body);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // The server dropped the connection (reset, timeout faults): so does the proxy.
    forward(req, res).catch(() => req.socket.destroy());
  });

  return {
    endpoint: `https://127.0.0.1:${port}`,
    ca,
    get lostResponses() {
      return lostResponses;
    },
    lostIds,
    close: async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await stopped;
      await removeFiles();
    },
  };
}
