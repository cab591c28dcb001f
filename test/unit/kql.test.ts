import { readFileSync } from 'node:fs';
import { RESERVED_COLUMNS, TABLES, type TableDefinition } from '../../shared/domain/tables/columns.js';
import { REFERENCE_QUERIES } from '../../shared/domain/tables/reference-queries.js';
import {
  analyseKql,
  checkKql,
  type KqlTable,
  kqlTable,
  SYSTEM_COLUMNS,
  UNPOPULATED_COLUMNS,
  unpopulatedColumns,
} from '../support/kql.js';

interface RuleColumns {
  readonly file: string;
  readonly id: string;
  readonly name: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly mappedColumns: readonly string[];
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function isRuleColumns(value: unknown): value is RuleColumns {
  if (typeof value !== 'object' || value === null) return false;
  const r: Record<string, unknown> = { ...value };
  return (
    typeof r.file === 'string' &&
    typeof r.id === 'string' &&
    typeof r.name === 'string' &&
    typeof r.table === 'string' &&
    isStringArray(r.columns) &&
    isStringArray(r.mappedColumns)
  );
}

function loadRuleColumns(): RuleColumns[] {
  const url = new URL('../fixtures/sentinel/builtin-rule-columns.json', import.meta.url);
  const parsed: unknown = JSON.parse(readFileSync(url, 'utf8'));
  const rules = typeof parsed === 'object' && parsed !== null && 'rules' in parsed ? parsed.rules : undefined;
  if (!Array.isArray(rules) || !rules.every(isRuleColumns)) {
    throw new Error(
      'builtin-rule-columns.json: expected { rules: [{ file, id, name, table, columns, mappedColumns }] }',
    );
  }
  return rules;
}

const RULES = loadRuleColumns();

function definition(table: string): TableDefinition {
  const found = TABLES.find((t) => t.table === table);
  if (found === undefined) throw new Error(`no column definition for ${table}`);
  return found;
}

/** Every column a rule reads from our table: in its query, or passed through to its mappings. */
function ruleColumns(rule: RuleColumns): string[] {
  return [...new Set([...rule.columns, ...rule.mappedColumns])].sort();
}

const SYSTEM = new Set(SYSTEM_COLUMNS.map((c) => c.name));

describe('KQL against our column definitions', () => {
  describe('reference queries of the zero-trust guidance', () => {
    it('lists a query for each table we write', () => {
      expect(REFERENCE_QUERIES.map((q) => q.table).sort()).toEqual(TABLES.map((t) => t.table).sort());
    });

    it.each(REFERENCE_QUERIES.map((q) => [q.name, q] as const))(
      'compiles "%s" without errors',
      (_, query) => {
        expect(checkKql(query.kql, TABLES).errors).toEqual([]);
        expect(analyseKql(query.kql, TABLES).tables).toEqual([query.table]);
      },
    );
  });

  describe("columns of Sentinel's built-in AWS rules", () => {
    it('covers every rule of the fixture list, each on a table we write', () => {
      expect(RULES.length).toBeGreaterThanOrEqual(10);
      for (const rule of RULES) expect(TABLES.map((t) => t.table)).toContain(rule.table);
    });

    it.each(RULES.map((r) => [r.file, r] as const))('compiles the columns %s reads', (_, rule) => {
      const query = `${rule.table} | project ${ruleColumns(rule).join(', ')}`;
      expect(checkKql(query, TABLES).errors).toEqual([]);
    });

    it('reads only columns we populate, Log Analytics fills or Microsoft keeps empty', () => {
      for (const rule of RULES) {
        const known = new Set([
          ...definition(rule.table).columns.map((c) => c.name),
          ...SYSTEM,
          ...unpopulatedColumns(rule.table).map((c) => c.name),
        ]);
        expect({ rule: rule.file, unknown: ruleColumns(rule).filter((c) => !known.has(c)) }).toEqual({
          rule: rule.file,
          unknown: [],
        });
      }
    });

    it('needs no column we leave empty except the ones Log Analytics fills', () => {
      const notOurs = new Set<string>();
      for (const rule of RULES) {
        const ours = new Set(definition(rule.table).columns.map((c) => c.name));
        for (const column of ruleColumns(rule)) if (!ours.has(column)) notOurs.add(`${rule.table}.${column}`);
      }
      expect([...notOurs].sort()).toEqual([
        'AWSCloudTrail.SourceSystem',
        'AWSCloudTrail.TenantId',
        'AWSCloudTrail.Type',
        'AWSGuardDuty.Type',
      ]);
      for (const column of notOurs) expect(SYSTEM).toContain(column.split('.')[1]);
    });
  });

  describe('the tables as queries see them', () => {
    it('adds the columns Log Analytics owns, the same ones the normaliser refuses', () => {
      expect([...SYSTEM].sort()).toEqual([...RESERVED_COLUMNS].sort());
    });

    it('keeps the unpopulated columns apart from the ones we fill', () => {
      for (const [table, columns] of Object.entries(UNPOPULATED_COLUMNS)) {
        const ours = definition(table).columns.map((c) => c.name);
        expect(columns.filter((c) => ours.includes(c.name) || SYSTEM.has(c.name))).toEqual([]);
      }
    });

    it('maps DCR types to Kusto types', () => {
      const table = kqlTable(definition('AWSCloudTrail'));
      expect(table.columns.find((c) => c.name === 'ReadOnly')?.type).toBe('bool');
      expect(table.columns.find((c) => c.name === 'TimeGenerated')?.type).toBe('datetime');
      expect(table.columns.find((c) => c.name === '_BilledSize')?.type).toBe('real');
      expect(table.columns.map((c) => c.name)).toEqual(
        expect.arrayContaining([
          'AwsRequestId',
          'OperationName',
          'CidrIp',
          'IpProtocol',
          'SourcePort',
          'DestinationPort',
        ]),
      );
    });

    it('accepts the deprecated and unpopulated AWSCloudTrail columns', () => {
      const query =
        'AWSCloudTrail | project AwsRequestId, OperationName, CidrIp, IpProtocol, SourcePort, DestinationPort';
      expect(checkKql(query, TABLES).errors).toEqual([]);
    });

    it('accepts an additional table given by name and columns', () => {
      const audit: KqlTable = {
        name: 'AwsBridgeAudit_CL',
        columns: [
          { name: 'TimeGenerated', type: 'datetime' },
          { name: 'Action', type: 'string' },
        ],
      };
      const query =
        'AWSGuardDuty | join kind=inner (AwsBridgeAudit_CL) on $left.Id == $right.Action | take 1';
      expect(checkKql(query, [...TABLES, audit]).errors).toEqual([]);
      expect(checkKql(query, TABLES).errors).not.toEqual([]);
    });

    it('counts externaldata columns as no table column', () => {
      const query =
        "let Tor = externaldata (TorIP:string) [h@'https://example.invalid/tor.csv'];\n" +
        'AWSCloudTrail | where SourceIpAddress in (Tor) | project TorIP = SourceIpAddress, EventName';
      const analysis = analyseKql(query, TABLES);
      expect(analysis.errors).toEqual([]);
      expect(analysis.references.map((r) => `${r.table}.${r.column}`).sort()).toEqual([
        'AWSCloudTrail.EventName',
        'AWSCloudTrail.SourceIpAddress',
      ]);
      expect(analysis.resultColumns).toEqual([
        { name: 'TorIP', type: 'string' },
        { name: 'EventName', type: 'string', source: { table: 'AWSCloudTrail', column: 'EventName' } },
      ]);
    });
  });

  describe('refusals', () => {
    it('names a misspelt column', () => {
      const query = 'AWSCloudTrail | where UserIdentityPrincipalId == "AIDAEXAMPLE"';
      const { errors } = checkKql(query, TABLES);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toContain("'UserIdentityPrincipalId'");
      expect(errors[0]?.code).toBe('KS142');
      const at = errors[0]?.start ?? 0;
      expect(query.slice(at, at + (errors[0]?.length ?? 0))).toBe('UserIdentityPrincipalId');
    });

    it('refuses an unknown table', () => {
      const { errors } = checkKql(
        'AWSS3ServerAccess | where Operation == "REST.GET.OBJECT" | take 10',
        TABLES,
      );
      expect(errors.map((e) => e.code)).toContain('KS204');
      expect(errors[0]?.message).toContain("'AWSS3ServerAccess'");
    });

    it('reports comparing the int Severity with a string', () => {
      const { errors } = checkKql('AWSGuardDuty | where Severity > "high"', TABLES);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(/int and string/);
    });

    it('reports summing a string column', () => {
      const { errors } = checkKql('AWSGuardDuty | summarize sum(Title)', TABLES);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(/summable/);
    });

    it('reports a syntax error', () => {
      expect(checkKql('AWSGuardDuty | where', TABLES).errors).not.toEqual([]);
    });

    it('refuses a column name that is not an identifier', () => {
      const bad: KqlTable = { name: 'Bad_CL', columns: [{ name: "x']:int, (y", type: 'string' }] };
      expect(() => checkKql('Bad_CL', [bad])).toThrow(/not an identifier/);
    });
  });
});
