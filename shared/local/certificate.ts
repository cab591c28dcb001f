/**
 * Throwaway TLS certificates for the project's local servers.
 *
 * The Azure SDKs refuse to send bearer tokens over plain http, so every local stand-in for an Azure
 * service serves HTTPS with a self-signed certificate made at start. Clients trust it explicitly with
 * `{ tlsOptions: { ca: cert } }`; nothing here touches `NODE_TLS_REJECT_UNAUTHORIZED`.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SelfSignedCertificate {
  /** PEM certificate; also the CA that clients must trust. */
  readonly cert: string;
  /** PEM private key (unencrypted). */
  readonly key: string;
}

export interface CertificateOptions {
  /**
   * Directory to write `cert.pem` and `key.pem` into; the files are left there for the caller to remove.
   * Without it a temporary directory is used and removed before returning.
   */
  readonly dir?: string;
  /** Validity in days; default 2. */
  readonly days?: number;
}

/** Makes a self-signed RSA certificate for `localhost` and `127.0.0.1` with `openssl`. */
export async function createSelfSignedCertificate(
  options: CertificateOptions = {},
): Promise<SelfSignedCertificate> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'local-cert-')));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  try {
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-days',
        String(options.days ?? 2),
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { timeout: 30_000 },
    );
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key };
  } catch (error) {
    const stderr = isRecord(error) && typeof error.stderr === 'string' ? error.stderr.trim() : '';
    throw new Error(`openssl could not create a self-signed certificate${stderr ? `: ${stderr}` : ''}`, {
      cause: error,
    });
  } finally {
    if (options.dir === undefined) {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
