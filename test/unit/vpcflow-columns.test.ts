/**
 * AWS_VPCFLOW against Microsoft's table reference (a copy of the schema TSV in test/fixtures/vpcflow), the
 * field -> column mapping against AWS_VPCFLOW, and every row of every flow log fixture against the column
 * types: the DCR stream is generated from AWS_VPCFLOW, so a value of the wrong type would be lost there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { type ColumnType, RESERVED_COLUMNS } from '../../shared/domain/tables/columns.js';
import { AWS_VPCFLOW } from '../../shared/domain/tables/vpcflow-columns.js';
import {
  FLOW_LOG_FIELDS,
  type FlowLogFieldKind,
  normaliseFlowLogLine,
  parseFlowLogHeader,
} from '../../shared/domain/vpcflow/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'vpcflow');
const INT32_MAX = 2 ** 31 - 1;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The Kusto column types of the table reference as DCR stream types (only `bool` is spelled differently). */
function referenceColumns(): Map<string, string> {
  const columns = new Map<string, string>();
  for (const line of readFileSync(join(FIXTURES, 'AWSVPCFlow.tsv'), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const [name = '', type = ''] = line.split('\t');
    if (!RESERVED_COLUMNS.includes(name)) columns.set(name, type === 'bool' ? 'boolean' : type.trim());
  }
  return columns;
}

/** The column types a field of each kind may feed. */
const KIND_COLUMNS: Record<FlowLogFieldKind, readonly ColumnType[]> = {
  string: ['string'],
  int: ['int'],
  // `packets` is read up to 2^53 - 1 like `bytes`, into the `int` column Packets (see fields.ts).
  long: ['long', 'int'],
  'unix-seconds': ['datetime'],
};

describe('AWS_VPCFLOW', () => {
  it('declares the columns and types of the table reference, reserved columns left out', () => {
    const declared = new Map(AWS_VPCFLOW.columns.map((column) => [column.name, column.type as string]));
    expect(declared.size).toBe(AWS_VPCFLOW.columns.length);
    expect([...declared].sort()).toEqual([...referenceColumns()].sort());
    expect(declared.size).toBe(40);
  });

  it('writes the built-in table through a Custom- stream into Microsoft-AWSVPCFlow', () => {
    expect(AWS_VPCFLOW.table).toBe('AWSVPCFlow');
    expect(AWS_VPCFLOW.stream).toBe('Custom-AWSVPCFlow');
    expect(AWS_VPCFLOW.outputStream).toBe('Microsoft-AWSVPCFlow');
  });

  it('says where every column comes from', () => {
    for (const column of AWS_VPCFLOW.columns) expect(column.source.trim()).not.toBe('');
  });

  it('feeds every column but TimeGenerated from exactly one flow log field of a matching kind', () => {
    const types = new Map<string, ColumnType>(
      AWS_VPCFLOW.columns.map((column) => [column.name, column.type]),
    );
    const fed = new Map<string, string>();
    for (const field of FLOW_LOG_FIELDS) {
      if (field.column === undefined) continue;
      expect(fed.get(field.column)).toBeUndefined();
      fed.set(field.column, field.name);
      expect(KIND_COLUMNS[field.kind]).toContain(types.get(field.column));
    }
    expect([...fed.keys()].sort()).toEqual(
      AWS_VPCFLOW.columns
        .map((column) => column.name)
        .filter((name) => name !== 'TimeGenerated')
        .sort(),
    );
    expect(fed.get('Start')).toBe('start');
  });

  it('names every field once, with a version from 2 on', () => {
    const names = FLOW_LOG_FIELDS.map((field) => field.name);
    expect(new Set(names).size).toBe(names.length);
    for (const field of FLOW_LOG_FIELDS) expect(field.since).toBeGreaterThanOrEqual(2);
  });
});

describe('rows of the flow log fixtures', () => {
  const files = readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.log'))
    .sort();
  const types = new Map<string, ColumnType>(AWS_VPCFLOW.columns.map((column) => [column.name, column.type]));

  it('covers the four fixture formats', () => {
    expect(files).toEqual(['all-fields-v10.log', 'custom-v5.log', 'default-v2.log', 'ecs-v7.log']);
  });

  it.each(files.map((file) => [file]))('types every value of %s as its AWSVPCFlow column', (file) => {
    const [header = '', ...lines] = readFileSync(join(FIXTURES, file), 'utf8').split('\n');
    const parsed = parseFlowLogHeader(header);
    if (!parsed.ok) throw new Error(parsed.reason);
    const records = lines.filter((line) => line !== '');
    expect(records.length).toBeGreaterThan(0);
    records.forEach((line, index) => {
      const outcome = normaliseFlowLogLine(parsed.format, line, index + 2);
      if (!outcome.ok) throw new Error(`${file}:${outcome.line}: ${outcome.field}: ${outcome.reason}`);
      const row = outcome.row;
      expect(typeof row.TimeGenerated).toBe('string');
      for (const [name, value] of Object.entries(row)) {
        expect(RESERVED_COLUMNS).not.toContain(name);
        const type = types.get(name);
        if (type === undefined) throw new Error(`${file}:${index + 2}: ${name} is not an AWSVPCFlow column`);
        switch (type) {
          case 'int':
            expect(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= INT32_MAX).toBe(
              true,
            );
            break;
          case 'long':
            expect(Number.isSafeInteger(value) && (value as number) >= 0).toBe(true);
            break;
          case 'datetime':
            expect(value).toEqual(expect.stringMatching(ISO_INSTANT));
            expect(new Date(value as string).toISOString()).toBe(value);
            break;
          default:
            expect(type).toBe('string');
            expect(typeof value === 'string' && value !== '' && value !== '-').toBe(true);
        }
      }
    });
  });
});
