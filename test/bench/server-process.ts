/**
 * A local server in a process of its own, driven over the IPC channel: the bench measures the code under test,
 * not what it costs the server (on another machine in production) to answer.
 *
 * Parent side: `forkServer(moduleUrl, args, name)` forks the module with `--import tsx`, waits for its `ready`
 * message and returns it with `call` (one request, one reply, matched by id) and `close`. Child side:
 * `serveCommands(ready, run, close)` answers each message with `run`'s result, and stops when the parent goes.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isRecord, ROOT } from './common.js';

type Message = Record<string, unknown>;

export interface ServerProcess {
  /** The child's `ready` message (endpoint and whatever else it announces). */
  readonly info: Message;
  /** Sends `command` and resolves with the child's reply; rejects when it reports an error or is gone. */
  call(command: Message): Promise<Message>;
  /** Closes the channel; the child closes its server and exits. */
  close(): Promise<void>;
}

export async function forkServer(
  moduleUrl: string,
  args: readonly string[],
  name: string,
): Promise<ServerProcess> {
  const child: ChildProcess = fork(fileURLToPath(moduleUrl), [...args], {
    execArgv: ['--import', 'tsx'],
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: Message) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;

  const ready = new Promise<Message>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${name} process exited early (code ${code})`)));
    child.on('message', (message: unknown) => {
      if (!isRecord(message)) return;
      if (message.type === 'ready') {
        resolve(message);
        return;
      }
      const id = typeof message.id === 'number' ? message.id : -1;
      const waiter = pending.get(id);
      if (waiter === undefined) return;
      pending.delete(id);
      if (message.ok === true) waiter.resolve(message);
      else waiter.reject(new Error(`${name}: ${String(message.error)}`));
    });
  });
  child.on('exit', () => {
    exited = true;
    for (const waiter of pending.values()) waiter.reject(new Error(`${name} process exited`));
    pending.clear();
  });
  const info = await ready;

  return {
    info,
    call: (command) =>
      new Promise((resolve, reject) => {
        if (exited) {
          reject(new Error(`${name} process is gone`));
          return;
        }
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ ...command, id });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (exited) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

/** Child side: announces `ready`, answers each command with `run`, closes and exits once the parent goes. */
export function serveCommands(
  ready: Message,
  run: (message: Message) => Message | Promise<Message>,
  close: () => Promise<void>,
): void {
  const send = (message: Message): void => {
    process.send?.(message);
  };
  process.on('message', (message: unknown) => {
    if (!isRecord(message) || typeof message.id !== 'number') return;
    const { id } = message;
    Promise.resolve()
      .then(() => run(message))
      .then(
        (reply) => send({ ...reply, id, ok: true }),
        (error: unknown) =>
          send({ id, ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  // The parent went away (or closed the channel): stop.
  process.once('disconnect', () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  send({ type: 'ready', ...ready });
}

/** Runs `serve` when `moduleUrl` is the entry point of this process (the forked child). */
export function serveIfEntryPoint(moduleUrl: string, serve: () => Promise<void>): void {
  const entry = process.argv[1];
  if (entry !== undefined && moduleUrl === pathToFileURL(entry).href) {
    serve().catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
  }
}
