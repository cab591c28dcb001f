/**
 * Conformance run over a folder of reference fixtures laid out like `../shared/fixtures`
 * (`guardduty/*.json`, `cloudtrail/*.json`): every item must normalise into a row whose columns all
 * belong to the target table with the right types, or be refused with a named field. Refusals are only
 * accepted for the items listed in KNOWN_REFUSALS (partial samples that lack an identifying field); any
 * other refusal, exception or column/type violation fails the run.
 *
 *   node --import tsx test/tools/conformance-fixtures.ts ../shared/fixtures
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { normaliseItem, type SourceName } from '../../shared/domain/sources.js';
import { TABLES } from '../../shared/domain/tables/columns.js';
import { typeMismatch } from '../../shared/local/ingestion-server.js';

/** file -> the field its refusal must name. */
const KNOWN_REFUSALS: Readonly<Record<string, string>> = {
  'gd2acl-test-event-sshbruteforce.json': 'accountId',
  'elastic-AddUserToGroup.json': 'eventID',
};

export function checkFixtures(root: string): { lines: string[]; failures: number } {
  const lines: string[] = [];
  let failures = 0;
  for (const source of ['guardduty', 'cloudtrail'] as const satisfies readonly SourceName[]) {
    const dir = join(root, source);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    for (const file of files) {
      const problems: string[] = [];
      let summary = '';
      try {
        const outcome = normaliseItem(source, JSON.parse(readFileSync(join(dir, file), 'utf8')));
        if (outcome.ok) {
          const table = TABLES.find((t) => t.table === outcome.table);
          for (const [name, value] of Object.entries(outcome.row)) {
            const column = table?.columns.find((c) => c.name === name);
            if (!column) problems.push(`column ${name} is not in ${outcome.table}`);
            else {
              const mismatch = typeMismatch(column.type, value);
              if (mismatch) problems.push(`${name}: ${mismatch}`);
            }
          }
          summary = `${outcome.table} row with ${Object.keys(outcome.row).length} columns`;
        } else if (KNOWN_REFUSALS[file] === outcome.field) {
          summary = `refused as expected (${outcome.field}: ${outcome.reason})`;
        } else {
          problems.push(`refused: ${outcome.field || '(item)'}: ${outcome.reason}`);
        }
      } catch (error) {
        problems.push(`threw: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (problems.length > 0) failures++;
      lines.push(
        `${problems.length > 0 ? 'FAIL' : 'ok  '} ${source}/${file}: ${problems.length > 0 ? problems.join('; ') : summary}`,
      );
    }
  }
  return { lines, failures };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = process.argv[2];
  if (!root) {
    console.error('usage: conformance-fixtures.ts <fixtures dir with guardduty/ and cloudtrail/>');
    process.exitCode = 2;
  } else {
    const { lines, failures } = checkFixtures(root);
    for (const line of lines) console.log(line);
    console.log(`fixtures: ${lines.length - failures} passed, ${failures} failed`);
    process.exitCode = failures > 0 ? 1 : 0;
  }
}
