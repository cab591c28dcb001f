/**
 * Azurite's table service (the npm `azurite` devDependency, so `npm ci` is all a machine needs) as a child
 * process of the test run: in-memory, no telemetry, on a free loopback port, run from a throwaway directory
 * (its working directory is its location; `--location` and `--inMemoryPersistence` exclude each other).
 *
 * Azurite started with `--tablePort 0` listens on a random port but reports `0`, so the port is picked here
 * (bind to 0, read it, close) and the start is retried on another port if something took it in between.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Azurite {
  /** `devstoreaccount1` over http: give table clients `{ allowInsecureConnection: true }`. */
  readonly connectionString: string;
  readonly tableEndpoint: string;
  stop(): Promise<void>;
}

/** Azurite's documented development account (public, the same on every installation). */
export const DEVSTORE_ACCOUNT = 'devstoreaccount1';
export const DEVSTORE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const START_TIMEOUT_MS = 20_000;
const ATTEMPTS = 3;

function tableMain(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'table', 'main.js');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read a free port'));
      });
    });
  });
}

/** Resolves once the child reports it listens; rejects with its output if it exits or times out first. */
function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      finish(new Error(`Azurite did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = (data: Buffer): void => {
      output += data.toString();
      if (output.includes('successfully started')) finish();
    };
    const onExit = (code: number | null): void => {
      finish(new Error(`Azurite exited (code ${code}) before it started:\n${output}`));
    };
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startAzurite(): Promise<Azurite> {
  const location = await mkdtemp(join(tmpdir(), 'azurite-'));
  const main = tableMain();
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        main,
        '--inMemoryPersistence',
        '--disableTelemetry',
        '--skipApiVersionCheck',
        '--silent',
        '--tableHost',
        '127.0.0.1',
        '--tablePort',
        String(port),
      ],
      { cwd: location, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await started(child);
    } catch (error) {
      lastError = error;
      await stopChild(child);
      continue;
    }
    // Drain output so a chatty child never blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.resume();
    const tableEndpoint = `http://127.0.0.1:${port}/${DEVSTORE_ACCOUNT}`;
    return {
      tableEndpoint,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEVSTORE_ACCOUNT};AccountKey=${DEVSTORE_KEY};TableEndpoint=${tableEndpoint};`,
      async stop(): Promise<void> {
        await stopChild(child);
        await rm(location, { recursive: true, force: true });
      },
    };
  }
  await rm(location, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error('Azurite did not start');
}
