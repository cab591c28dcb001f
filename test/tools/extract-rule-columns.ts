/**
 * Turns Sentinel's built-in AWS rules into the project's own list of the table columns each rule
 * reads, so the KQL tests run without Microsoft's rule files (and without copying their KQL):
 *
 *   node --import tsx test/tools/extract-rule-columns.ts ../shared/fixtures/sentinel/rules \
 *     > test/fixtures/sentinel/builtin-rule-columns.json
 *
 * Each rule's query is compiled with the Kusto language service against Microsoft's full table
 * schemas (`<rules>/../schemas/*.tsv`, or the directory given second), and the columns are
 * the binder's resolved column symbols that belong to a table: names bound to `extend`s, `let`
 * results, `externaldata` or join outputs are not table columns and are not listed.
 * `mappedColumns` are the table columns the rule's entity mappings, custom details and alert
 * overrides read from the query output where the query passes them through unchanged.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { analyseKql, isKustoType, type KqlColumn, type KqlTable } from '../support/kql.js';

export interface RuleFile {
  readonly file: string;
  readonly id: string;
  readonly name: string;
  /** `Scheduled` for analytic rules, `Hunting` for hunting queries. */
  readonly kind: string;
  /** Provenance line of the fixture (`Azure/Azure-Sentinel <path> @ <commit>`), when present. */
  readonly source?: string;
  readonly query: string;
  /** Output column names the rule's metadata reads (entities, custom details, alert overrides). */
  readonly outputNames: readonly string[];
}

export interface RuleColumns {
  readonly file: string;
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly source?: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly mappedColumns: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(rule: Record<string, unknown>, key: string, file: string): string {
  const value = rule[key];
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`${file}: '${key}' is missing`);
  return value;
}

function outputNames(rule: Record<string, unknown>): string[] {
  const names: string[] = [];
  const entities = rule.entityMappings;
  if (Array.isArray(entities)) {
    for (const entity of entities) {
      const mappings = isRecord(entity) ? entity.fieldMappings : undefined;
      if (!Array.isArray(mappings)) continue;
      for (const m of mappings) if (isRecord(m) && typeof m.columnName === 'string') names.push(m.columnName);
    }
  }
  if (isRecord(rule.customDetails)) {
    for (const v of Object.values(rule.customDetails)) if (typeof v === 'string') names.push(v);
  }
  const override = rule.alertDetailsOverride;
  if (isRecord(override)) {
    for (const key of ['alertDisplayNameFormat', 'alertDescriptionFormat']) {
      const format = override[key];
      if (typeof format === 'string')
        for (const m of format.matchAll(/\{\{(\w+)\}\}/g)) names.push(m[1] ?? '');
    }
    for (const key of ['alertTacticsColumnName', 'alertSeverityColumnName']) {
      const column = override[key];
      if (typeof column === 'string') names.push(column);
    }
    const dynamic = override.alertDynamicProperties;
    if (Array.isArray(dynamic)) {
      for (const p of dynamic) if (isRecord(p) && typeof p.value === 'string') names.push(p.value);
    }
  }
  return [...new Set(names.filter((n) => n !== ''))];
}

/** Reads every `*.yaml` rule (analytic or hunting) of a directory, sorted by file name. */
export function readRuleFiles(dir: string): RuleFile[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  return files.map((file) => {
    const raw = readFileSync(join(dir, file), 'utf8');
    const doc: unknown = parse(raw);
    if (!isRecord(doc)) throw new Error(`${file}: not a YAML mapping`);
    const kind =
      typeof doc.kind === 'string' ? doc.kind : file.endsWith('.hunting.yaml') ? 'Hunting' : 'Unknown';
    const source = /^#\s*Source:\s*(.+?)\s*(\(.*\))?\s*$/m.exec(raw)?.[1]?.replace(/\s+/g, ' ');
    const base = {
      file,
      id: text(doc, 'id', file),
      name: text(doc, 'name', file),
      kind,
      query: text(doc, 'query', file),
      outputNames: outputNames(doc),
    };
    return source ? { ...base, source } : base;
  });
}

/** Reads Microsoft's table schemas: one `<Table>.tsv` per table, `column<TAB>kusto type` per line. */
export function readSchemas(dir: string): KqlTable[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.tsv'))
    .sort();
  return files.map((file) => {
    const name = basename(file, '.tsv');
    const columns = readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .map((line, i): KqlColumn => {
        const [column, type] = line.split('\t');
        if (column === undefined || type === undefined || !isKustoType(type)) {
          throw new Error(`${file}:${i + 1}: expected 'column<TAB>kusto type', got ${JSON.stringify(line)}`);
        }
        return { name: column, type };
      });
    return { name, columns };
  });
}

export function extractRuleColumns(rules: readonly RuleFile[], schemas: readonly KqlTable[]): RuleColumns[] {
  return rules.map((rule) => {
    const analysis = analyseKql(rule.query, schemas);
    if (analysis.errors.length > 0) {
      const first = analysis.errors.map((e) => `${e.code} ${e.message}`).join('; ');
      throw new Error(`${rule.file}: the query does not compile against Microsoft's schema: ${first}`);
    }
    const [table, ...others] = analysis.tables;
    if (table === undefined) throw new Error(`${rule.file}: the query reads no known table`);
    if (others.length > 0) {
      throw new Error(`${rule.file}: reads ${analysis.tables.join(', ')}; this list has one table per rule`);
    }
    const mapped = rule.outputNames.flatMap((n) => {
      const out = analysis.resultColumns.find((c) => c.name === n);
      if (out === undefined)
        throw new Error(`${rule.file}: the rule maps '${n}', which the query does not output`);
      return out.source ? [out.source.column] : [];
    });
    return {
      file: rule.file,
      id: rule.id,
      name: rule.name,
      kind: rule.kind,
      ...(rule.source ? { source: rule.source } : {}),
      table,
      columns: analysis.references.map((r) => r.column).sort(),
      mappedColumns: [...new Set(mapped)].sort(),
    };
  });
}

const LINE_WIDTH = 110;

/**
 * JSON as Biome formats it (biome.json: 2 spaces, line width 110), so the generated file passes
 * `biome check` as written: objects expanded, arrays of scalars on one line when they fit.
 */
export function formatJson(value: unknown, indent = '', prefix = '', suffix = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}${prefix}[]${suffix}`;
    if (value.every((v) => typeof v !== 'object' || v === null)) {
      const line = `${indent}${prefix}[${value.map((v) => JSON.stringify(v)).join(', ')}]${suffix}`;
      if (line.length <= LINE_WIDTH) return line;
    }
    const items = value.map((v, i) => formatJson(v, inner, '', i < value.length - 1 ? ',' : ''));
    return [`${indent}${prefix}[`, ...items, `${indent}]${suffix}`].join('\n');
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return `${indent}${prefix}{}${suffix}`;
    const items = entries.map(([k, v], i) =>
      formatJson(v, inner, `${JSON.stringify(k)}: `, i < entries.length - 1 ? ',' : ''),
    );
    return [`${indent}${prefix}{`, ...items, `${indent}}${suffix}`].join('\n');
  }
  return `${indent}${prefix}${JSON.stringify(value)}${suffix}`;
}

function main(argv: readonly string[]): number {
  const [rulesDir, schemasArg] = argv;
  if (rulesDir === undefined) {
    console.error(
      'usage: extract-rule-columns.ts <rules dir> [<schemas dir>, default <rules dir>/../schemas]',
    );
    return 2;
  }
  const schemasDir = schemasArg ?? join(dirname(resolve(rulesDir)), 'schemas');
  const rules = readRuleFiles(rulesDir);
  if (rules.length === 0) {
    console.error(`${rulesDir}: no *.yaml rules`);
    return 1;
  }
  const list = {
    description:
      "Columns of the Sentinel tables that Microsoft's built-in AWS rules read (Azure/Azure-Sentinel, " +
      "Solutions/Amazon Web Services). 'columns': table columns the query names; 'mappedColumns': table " +
      'columns passed through to the output that entity mappings, custom details or alert overrides read. ' +
      'Generated by test/tools/extract-rule-columns.ts with the Kusto language service; no KQL is copied.',
    rules: extractRuleColumns(rules, readSchemas(schemasDir)),
  };
  process.stdout.write(`${formatJson(list)}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
