/**
 * Cross-checks the normaliser against the project's own fixtures.
 *
 * Every `test/fixtures/<source>/X.json` (a real public sample or a hand-written finding/record, see the
 * `SOURCES.md` next to it) has an expected row `test/fixtures/expected/<source>/X.row.json` that was derived
 * from the mapping in DESIGN section 4 independently of the normaliser's code. `test/fixtures/invalid/`
 * holds inputs that must be refused, with the offending field named in `cases.json`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NormaliseOutcome, normaliseItem, type SourceName } from '../../shared/domain/sources.js';
import { type ColumnType, TABLES, type TableDefinition } from '../../shared/domain/tables/columns.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

interface Source {
  readonly name: SourceName;
  readonly table: 'AWSGuardDuty' | 'AWSCloudTrail';
  /** The id the outcome must carry: the finding's `id` / the record's `eventID`. */
  readonly idOf: (item: Record<string, unknown>) => unknown;
}

const SOURCES: readonly Source[] = [
  { name: 'guardduty', table: 'AWSGuardDuty', idOf: (finding) => finding.id },
  { name: 'cloudtrail', table: 'AWSCloudTrail', idOf: (record) => record.eventID },
];

interface InvalidCase {
  readonly file: string;
  readonly source: SourceName;
  readonly field: string;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The finding / record inside an EventBridge envelope, or the input itself when it is bare. */
function payloadOf(input: unknown): Record<string, unknown> {
  if (!isRecord(input)) throw new Error('fixture is not a JSON object');
  if ('detail-type' in input && isRecord(input.detail)) return input.detail;
  return input;
}

function tableDefinition(name: string): TableDefinition {
  const table = TABLES.find((t) => t.table === name);
  if (table === undefined) throw new Error(`no table definition for ${name}`);
  return table;
}

/** A problem description when `value` does not fit a column of type `type`, else undefined. */
function typeMismatch(type: ColumnType, value: unknown): string | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : `expected a string, got ${JSON.stringify(value)}`;
    case 'int':
    case 'long':
      return Number.isInteger(value) ? undefined : `expected an integer, got ${JSON.stringify(value)}`;
    case 'real':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : `expected a finite number, got ${JSON.stringify(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected a boolean, got ${JSON.stringify(value)}`;
    case 'datetime':
      return typeof value === 'string' && value.endsWith('Z') && !Number.isNaN(Date.parse(value))
        ? undefined
        : `expected an ISO datetime ending in Z, got ${JSON.stringify(value)}`;
    case 'dynamic':
      return typeof value === 'object' && value !== null
        ? undefined
        : `expected an object or array, got ${JSON.stringify(value)}`;
  }
}

/** Every key of `row` is a column of `table` and its value has the column's type. */
function columnProblems(table: TableDefinition, row: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(row)) {
    const column = table.columns.find((c) => c.name === key);
    if (column === undefined) {
      problems.push(`${key}: not a column of ${table.table}`);
      continue;
    }
    const mismatch = typeMismatch(column.type, value);
    if (mismatch !== undefined) problems.push(`${key} (${column.type}): ${mismatch}`);
  }
  return problems;
}

function expectAccepted(
  outcome: NormaliseOutcome,
): asserts outcome is Extract<NormaliseOutcome, { ok: true }> {
  if (!outcome.ok) {
    throw new Error(`refused: field "${outcome.field}": ${outcome.reason}`);
  }
}

function expectRefused(
  outcome: NormaliseOutcome,
): asserts outcome is Extract<NormaliseOutcome, { ok: false }> {
  if (outcome.ok) {
    throw new Error(`accepted into ${outcome.table} as ${outcome.id}, but it must be refused`);
  }
}

describe.each(SOURCES)('normaliseItem on the $name fixtures', (source) => {
  const dir = join(FIXTURES, source.name);
  const files = jsonFiles(dir);
  const table = tableDefinition(source.table);

  it('has fixtures and an expected row for each of them', () => {
    expect(files.length).toBeGreaterThan(0);
    const expectedRows = jsonFiles(join(FIXTURES, 'expected', source.name));
    expect(expectedRows).toStrictEqual(files.map((file) => file.replace(/\.json$/, '.row.json')));
  });

  describe.each(files)('%s', (file) => {
    const input = readJson(join(dir, file));
    const expectedRow = readJson(
      join(FIXTURES, 'expected', source.name, file.replace(/\.json$/, '.row.json')),
    );

    it(`normalises ${file} into the expected ${source.table} row`, () => {
      const outcome = normaliseItem(source.name, input);
      expectAccepted(outcome);
      expect(outcome.table).toBe(source.table);
      expect(outcome.id).toBe(source.idOf(payloadOf(input)));
      expect(outcome.row).toStrictEqual(expectedRow);
    });

    it(`emits only ${source.table} columns with the column types for ${file}`, () => {
      const outcome = normaliseItem(source.name, input);
      expectAccepted(outcome);
      expect(columnProblems(table, outcome.row)).toStrictEqual([]);
    });
  });
});

describe('the expected rows', () => {
  // Guards the fixtures themselves, so a wrong expectation cannot pass unnoticed.
  it.each(SOURCES)('use only $table columns with the column types', (source) => {
    const table = tableDefinition(source.table);
    const dir = join(FIXTURES, 'expected', source.name);
    for (const file of jsonFiles(dir)) {
      const row = readJson(join(dir, file));
      if (!isRecord(row)) throw new Error(`${file} is not a JSON object`);
      expect({ file, problems: columnProblems(table, row) }).toStrictEqual({ file, problems: [] });
    }
  });
});

describe('normaliseItem on invalid inputs', () => {
  const dir = join(FIXTURES, 'invalid');
  const cases = readJson(join(dir, 'cases.json')) as readonly InvalidCase[];

  it('lists every invalid fixture exactly once', () => {
    expect(cases.map((c) => c.file).sort()).toStrictEqual(jsonFiles(dir).filter((f) => f !== 'cases.json'));
  });

  it.each(cases)('refuses $file as $source, naming the field "$field"', ({ file, source, field }) => {
    const outcome = normaliseItem(source, readJson(join(dir, file)));
    expectRefused(outcome);
    expect(outcome.field).toBe(field);
    expect(typeof outcome.reason).toBe('string');
    expect(outcome.reason.trim()).not.toBe('');
    expect(outcome.reason).not.toMatch(/[\r\n]/);
  });
});
