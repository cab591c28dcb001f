/**
 * Secret scanning: `npm run lint:secrets` (secretlint with the recommended preset, `.secretlintrc.json`) passes
 * on the repository, and the same configuration catches a credential. The fake AWS key is made at run time, so
 * this file holds no secret-looking literal itself.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '../support/cloudformation.js';

const SECRETLINT = join(REPO_ROOT, 'node_modules/secretlint/bin/secretlint.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
}

function secretlint(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [SECRETLINT, ...args],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout });
      },
    );
  });
}

/** The rule message ids per file of a JSON report (never the file contents, which hold the secret). */
function findings(stdout: string): Record<string, string[]> {
  const report: unknown = JSON.parse(stdout);
  if (!Array.isArray(report)) throw new Error('secretlint did not print a JSON report');
  const out: Record<string, string[]> = {};
  for (const file of report as { filePath?: unknown; messages?: { messageId?: unknown }[] }[]) {
    const ids = (file.messages ?? []).map((m) => String(m.messageId));
    if (ids.length > 0) out[String(file.filePath)] = ids;
  }
  return out;
}

describe('secret scanning (secretlint)', () => {
  it('finds nothing in the repository (npm run lint:secrets)', async () => {
    const run = await secretlint(['**/*', '--format', 'json']);
    expect(findings(run.stdout)).toEqual({});
    expect(run.code).toBe(0);
  });

  it('catches an AWS secret access key, in a plain and in a hidden file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secretlint-'));
    try {
      // 30 random bytes are 40 base64 characters: the shape of an AWS secret access key. The rule's pattern ends
      // with a word boundary, so it misses a key ending in "+" or "/" (a secretlint limitation): end on a letter.
      const key = randomBytes(30).toString('base64').replace(/[+/]$/, 'Q');
      await writeFile(join(dir, 'credentials.ini'), `[default]\naws_secret_access_key = ${key}\n`);
      await writeFile(join(dir, '.env'), `AWS_SECRET_ACCESS_KEY=${key}\n`);
      await writeFile(join(dir, 'clean.txt'), 'nothing to see here\n');
      const run = await secretlint([
        `${dir}/**/*`,
        '--secretlintrc',
        '.secretlintrc.json',
        '--format',
        'json',
        '--no-gitignore',
      ]);
      expect(run.code).toBe(1);
      expect(findings(run.stdout)).toEqual({
        [join(dir, 'credentials.ini')]: ['AWSSecretAccessKey'],
        [join(dir, '.env')]: ['AWSSecretAccessKey'],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('allows only the documented example values the tests use, not look-alikes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secretlint-'));
    try {
      // AWS's documented example key (allowed) next to the same shape with one character changed.
      const example = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxrfiCYEXAMPLEKEY'].join('/');
      const altered = `${example.slice(0, -1)}Z`;
      await writeFile(join(dir, 'example.ts'), `const a = { SecretAccessKey: '${example}' };\n`);
      await writeFile(join(dir, 'altered.ts'), `const a = { SecretAccessKey: '${altered}' };\n`);
      const run = await secretlint([
        `${dir}/**/*`,
        '--secretlintrc',
        '.secretlintrc.json',
        '--format',
        'json',
      ]);
      expect(findings(run.stdout)).toEqual({ [join(dir, 'altered.ts')]: ['AWSSecretAccessKey'] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
