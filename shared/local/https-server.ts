import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TokenCredential } from '@azure/core-auth';
import { createSelfSignedCertificate } from './certificate.js';

/** An HTTPS server on 127.0.0.1 with a throwaway certificate, as every local stand-in of a cloud API needs. */
export interface LocalHttpsServer {
  readonly server: Server;
  readonly port: number;
  /** The certificate (PEM) clients trust: `{ tlsOptions: { ca } }`. */
  readonly ca: string;
  /** The same certificate in a file, for tools outside the process (curl --cacert). */
  readonly caPath: string;
  /** Removes the certificate file; call it once the server is closed. */
  removeFiles(): Promise<void>;
}

export function listen(server: Server | HttpServer, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Makes a certificate, writes it to a temporary folder named after `name`, and listens on `port` (0: any). */
export async function startLocalHttpsServer(name: string, port = 0): Promise<LocalHttpsServer> {
  const dir = await mkdtemp(join(tmpdir(), `${name}-`));
  const removeFiles = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const certificate = await createSelfSignedCertificate();
    const caPath = join(dir, 'ca.pem');
    await writeFile(caPath, certificate.cert);
    const server = createServer({ cert: certificate.cert, key: certificate.key });
    await listen(server, port);
    return {
      server,
      port: (server.address() as AddressInfo).port,
      ca: certificate.cert,
      caPath,
      removeFiles,
    };
  } catch (error) {
    await removeFiles();
    throw error;
  }
}

/** For a local server run as a script: closes it on Ctrl-C / SIGTERM (after `beforeStop`) and exits. */
export function closeOnSignal(close: () => Promise<void>, beforeStop?: () => void): void {
  const stop = (): void => {
    beforeStop?.();
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Runs `main` when the module at `moduleUrl` is the script node was started with; errors exit 1. */
export function runIfEntryPoint(moduleUrl: string, main: (args: string[]) => Promise<void>): void {
  const entry = process.argv[1];
  if (entry !== undefined && moduleUrl === pathToFileURL(entry).href) {
    main(process.argv.slice(2)).catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
  }
}

/** A credential that always returns `token`, valid for an hour: how clients authenticate to the local servers. */
export function staticTokenCredential(token: string): TokenCredential {
  return {
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000, tokenType: 'Bearer' }),
  };
}
