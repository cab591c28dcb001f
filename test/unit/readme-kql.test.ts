import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { AWS_RESPONSE_AUDIT } from '../../shared/domain/tables/audit-columns.js';
import { TABLES } from '../../shared/domain/tables/columns.js';
import { checkKql } from '../support/kql.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Every KQL query the README shows: ```kql blocks and inline code that starts with one of our tables. */
function readmeQueries(): string[] {
  const blocks = [...readme.matchAll(/```kql\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '').trim());
  const inline = [
    ...readme.matchAll(/`((?:AWSGuardDuty|AWSCloudTrail|AWSResponseAudit_CL|AWSVPCFlow) \|[^`]+)`/g),
  ].map((m) => m[1] ?? '');
  return [...new Set([...blocks, ...inline])];
}

describe('KQL shown in the README', () => {
  const queries = readmeQueries();

  it('finds the queries the README shows', () => {
    expect(queries.length).toBeGreaterThanOrEqual(4);
  });

  // AWSVPCFlow arrives with the bulk-logs milestone; its queries are checked once the table is defined.
  it.each(queries.filter((q) => !q.startsWith('AWSVPCFlow')).map((q) => [q]))('type-checks: %s', (query) => {
    expect(checkKql(query, [...TABLES, AWS_RESPONSE_AUDIT]).errors).toEqual([]);
  });
});
