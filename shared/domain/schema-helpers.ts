import * as z from 'zod';
import { parseAwsTimestamp } from './time.js';

/** A timestamp string AWS sends; see `parseAwsTimestamp` for the accepted forms. */
export const awsTimestamp = z.string().refine((v) => parseAwsTimestamp(v) !== undefined, {
  message: 'expected an ISO 8601 timestamp such as 2026-07-22T18:47:17.000Z',
});

/** CloudTrail writes some booleans as the strings "true"/"false"; accept both, refuse anything else. */
export const looseBoolean = z.union([z.boolean(), z.enum(['true', 'false'])], {
  error: 'expected true or false',
});

export function toBoolean(value: boolean | 'true' | 'false'): boolean {
  return value === true || value === 'true';
}

/** The path of a zod issue as a dotted field name (`resource.instanceDetails.instanceId`, `[3]` for indices). */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** First issue of a zod error, as `{ field, reason }` with a one-line reason. */
export function firstIssue(error: z.ZodError): { field: string; reason: string } {
  const issue = error.issues[0];
  if (!issue) return { field: '', reason: 'invalid input' };
  const field = issuePath(issue.path);
  const reason = issue.message.replace(/\s+/g, ' ').trim();
  return { field, reason };
}
