/**
 * KQL compile checks against the project's column definitions, with Microsoft's Kusto language
 * service (`@kusto/language-service-next`, the parser and binder behind the Azure Data Explorer
 * and Log Analytics editors, compiled to plain JavaScript with Bridge.NET).
 *
 * Every KQL string the project ships (reference queries, DCR transforms, analytic rules,
 * workbook queries) can be compiled here against the tables as our rows fill them:
 *
 *   checkKql('AWSGuardDuty | where Severity > 7', TABLES).errors // []
 *
 * A `TableDefinition` (shared/domain/tables/columns.ts) becomes a Kusto table with its own
 * columns plus the columns every Log Analytics table has (SYSTEM_COLUMNS) and the columns that
 * exist in the Microsoft table but that we never fill (UNPOPULATED_COLUMNS), because a query may
 * name those and still be valid. A `KqlTable` (plain name and Kusto-typed columns) is taken as
 * it is: use it for Microsoft's full schema or for a table the project does not define.
 */
import { createRequire } from 'node:module';
import type { ColumnType, TableDefinition } from '../../shared/domain/tables/columns.js';

/** Kusto scalar type names (https://learn.microsoft.com/kusto/query/scalar-data-types/). */
export const KUSTO_TYPES = [
  'bool',
  'datetime',
  'decimal',
  'dynamic',
  'guid',
  'int',
  'long',
  'real',
  'string',
  'timespan',
] as const;
export type KustoType = (typeof KUSTO_TYPES)[number];

export interface KqlColumn {
  readonly name: string;
  readonly type: KustoType;
}

export interface KqlTable {
  readonly name: string;
  readonly columns: readonly KqlColumn[];
}

export type KqlTableInput = TableDefinition | KqlTable;

export interface KqlError {
  readonly message: string;
  /** The language service's diagnostic code, e.g. `KS142` (unknown name). */
  readonly code: string;
  /** Offset into the query text. */
  readonly start: number;
  readonly length: number;
}

export interface KqlCheck {
  /** Error-severity diagnostics only (syntax and semantic); warnings and suggestions are dropped. */
  readonly errors: readonly KqlError[];
}

export interface KqlColumnReference {
  readonly table: string;
  readonly column: string;
}

export interface KqlResultColumn {
  readonly name: string;
  readonly type: string;
  /** Set when the output column is a table column passed through unchanged (not recomputed). */
  readonly source?: KqlColumnReference;
}

export interface KqlAnalysis extends KqlCheck {
  /** Tables the query reads, in order of first reference. */
  readonly tables: readonly string[];
  /** Table columns the query names anywhere (let statements, joins, project-away...), deduplicated. */
  readonly references: readonly KqlColumnReference[];
  /** Columns of the query's tabular result; empty when the result is not a table. */
  readonly resultColumns: readonly KqlResultColumn[];
}

/** Columns Log Analytics adds to every table (filled by the service; never sent by us). */
export const SYSTEM_COLUMNS: readonly KqlColumn[] = [
  { name: 'Type', type: 'string' },
  { name: 'TenantId', type: 'string' },
  { name: 'SourceSystem', type: 'string' },
  { name: '_BilledSize', type: 'real' },
  { name: '_IsBillable', type: 'string' },
];

/**
 * AWSCloudTrail columns that exist in the Microsoft table, not populated by us: `AwsRequestId`
 * is deprecated by Microsoft (the request id goes to `AwsRequestId_`), and `OperationName`,
 * `CidrIp`, `IpProtocol`, `SourcePort`, `DestinationPort` are in the table reference but have
 * no CloudTrail field that fills them.
 */
export const AWS_CLOUDTRAIL_UNPOPULATED_COLUMNS: readonly KqlColumn[] = [
  { name: 'AwsRequestId', type: 'string' },
  { name: 'OperationName', type: 'string' },
  { name: 'CidrIp', type: 'string' },
  { name: 'IpProtocol', type: 'string' },
  { name: 'SourcePort', type: 'string' },
  { name: 'DestinationPort', type: 'string' },
];

/** Per table: columns that exist in the Microsoft table, not populated by us. */
export const UNPOPULATED_COLUMNS: Readonly<Record<string, readonly KqlColumn[]>> = {
  AWSCloudTrail: AWS_CLOUDTRAIL_UNPOPULATED_COLUMNS,
};

export function unpopulatedColumns(table: string): readonly KqlColumn[] {
  return Object.hasOwn(UNPOPULATED_COLUMNS, table) ? (UNPOPULATED_COLUMNS[table] ?? []) : [];
}

const DCR_TO_KUSTO: Readonly<Record<ColumnType, KustoType>> = {
  string: 'string',
  int: 'int',
  long: 'long',
  real: 'real',
  boolean: 'bool',
  dynamic: 'dynamic',
  datetime: 'datetime',
};

/** The table as a query sees it: our columns, then the system columns, then the unpopulated ones. */
export function kqlTable(definition: TableDefinition): KqlTable {
  const own = definition.columns.map((c) => ({ name: c.name, type: DCR_TO_KUSTO[c.type] }));
  const columns = [...own, ...SYSTEM_COLUMNS, ...unpopulatedColumns(definition.table)];
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) throw new Error(`${definition.table}: column ${c.name} is defined twice`);
    seen.add(c.name);
  }
  return { name: definition.table, columns };
}

function toKqlTable(input: KqlTableInput): KqlTable {
  return 'table' in input ? kqlTable(input) : input;
}

export function isKustoType(value: string): value is KustoType {
  return (KUSTO_TYPES as readonly string[]).includes(value);
}

// --- The language service, typed with the few members used here. -----------------------------

/** A .NET `IReadOnlyList<T>` as Bridge.NET exposes it. */
interface NetList<T> {
  readonly Count: number;
  getItem(index: number): T;
}

interface KSymbol {
  readonly Name: string;
  readonly Kind: number;
}

interface KColumnSymbol extends KSymbol {
  readonly Type: KSymbol;
}

interface KTableSymbol extends KSymbol {
  readonly Columns: NetList<KColumnSymbol>;
}

interface KDiagnostic {
  readonly Severity: string;
  readonly Code: string;
  readonly Message: string;
  readonly Start: number;
  readonly Length: number;
}

interface KSyntaxNode {
  readonly ReferencedSymbol: KSymbol | null;
}

interface KCode {
  readonly Syntax: { WalkNodes(action: (node: KSyntaxNode) => void): void };
  readonly ResultType: KSymbol | null;
  GetDiagnostics(): NetList<KDiagnostic>;
}

interface KGlobalState {
  WithCluster(cluster: KSymbol): KGlobalState;
  WithDatabase(database: KSymbol): KGlobalState;
}

interface KustoLanguage {
  readonly Symbols: {
    readonly TableSymbol: {
      readonly $ctor7: new (name: string, schema: string, description: string | null) => KTableSymbol;
    };
    readonly DatabaseSymbol: { readonly ctor: new (name: string, members: KSymbol[]) => KSymbol };
    readonly ClusterSymbol: { readonly ctor: new (name: string, databases: KSymbol[]) => KSymbol };
    readonly SymbolKind: { readonly Column: number; readonly Table: number };
  };
  readonly GlobalState: { readonly Default: KGlobalState };
  readonly KustoCode: { ParseAndAnalyze(text: string, globals: KGlobalState): KCode };
  readonly DiagnosticSeverity: { readonly Error: string };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

let language: KustoLanguage | undefined;

/**
 * Loads the language service once per module instance: 0.25 s in node (0.55 s under tsx), then
 * 0.6-1 s for the first analysis (GlobalState.Default and the binder warm up), about 20 ms per
 * query after that; the first Jest test takes about 1.5 s in all. The package is two Bridge.NET
 * scripts, not a module: `bridge.js` defines the .NET runtime (`Bridge`, `System`) on the global
 * object when it sees CommonJS `module`, and `Kusto.Language.Bridge.js` then registers
 * `Kusto.Language` on the same global. Loading them with `require` keeps them in the current
 * realm (also inside Jest's sandbox).
 */
function kusto(): KustoLanguage {
  if (language) return language;
  const require = createRequire(import.meta.url);
  require('@kusto/language-service-next/bridge.js');
  require('@kusto/language-service-next/Kusto.Language.Bridge.js');
  const root: unknown = Reflect.get(globalThis, 'Kusto');
  const loaded = isObject(root) ? root.Language : undefined;
  if (!isObject(loaded) || typeof loaded.KustoCode !== 'function' || !isObject(loaded.Symbols)) {
    throw new Error('@kusto/language-service-next did not register Kusto.Language on the global object');
  }
  language = loaded as unknown as KustoLanguage;
  return language;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function schemaText(table: KqlTable): string {
  const columns = table.columns.map((c) => {
    if (!NAME.test(c.name))
      throw new Error(`${table.name}: column name ${JSON.stringify(c.name)} is not an identifier`);
    if (!isKustoType(c.type))
      throw new Error(`${table.name}.${c.name}: ${String(c.type)} is not a Kusto type`);
    return `['${c.name}']:${c.type}`;
  });
  return `(${columns.join(', ')})`;
}

interface Schema {
  readonly globals: KGlobalState;
  /** Column symbol -> owning table, to tell table columns from computed or externaldata ones. */
  readonly owners: Map<KSymbol, KqlColumnReference>;
  readonly tableNames: ReadonlySet<string>;
}

const schemas = new Map<string, Schema>();

function schemaFor(inputs: readonly KqlTableInput[]): Schema {
  const tables = inputs.map(toKqlTable);
  const names = new Set<string>();
  for (const t of tables) {
    if (!NAME.test(t.name)) throw new Error(`table name ${JSON.stringify(t.name)} is not an identifier`);
    if (names.has(t.name)) throw new Error(`table ${t.name} is given twice`);
    names.add(t.name);
  }
  const texts = tables.map((t) => `${t.name}${schemaText(t)}`);
  const key = texts.join('\n');
  const cached = schemas.get(key);
  if (cached) return cached;

  const k = kusto();
  const owners = new Map<KSymbol, KqlColumnReference>();
  const symbols = tables.map((t) => {
    const symbol = new k.Symbols.TableSymbol.$ctor7(t.name, schemaText(t), null);
    for (let i = 0; i < symbol.Columns.Count; i++) {
      const column = symbol.Columns.getItem(i);
      owners.set(column, { table: t.name, column: column.Name });
    }
    return symbol;
  });
  const database = new k.Symbols.DatabaseSymbol.ctor('workspace', symbols);
  const cluster = new k.Symbols.ClusterSymbol.ctor('loganalytics', [database]);
  const globals = k.GlobalState.Default.WithCluster(cluster).WithDatabase(database);
  const schema = { globals, owners, tableNames: names };
  schemas.set(key, schema);
  return schema;
}

function list<T>(items: NetList<T> | null | undefined): T[] {
  const out: T[] = [];
  if (!items) return out;
  for (let i = 0; i < items.Count; i++) out.push(items.getItem(i));
  return out;
}

function errorsOf(k: KustoLanguage, code: KCode): KqlError[] {
  return list(code.GetDiagnostics())
    .filter((d) => d.Severity === k.DiagnosticSeverity.Error)
    .map((d) => ({ message: d.Message, code: d.Code, start: d.Start, length: d.Length }));
}

function isTable(k: KustoLanguage, symbol: KSymbol | null): symbol is KTableSymbol {
  return symbol !== null && symbol.Kind === k.Symbols.SymbolKind.Table;
}

/** Parses and type-checks `query` against `tables`; returns the error-severity diagnostics. */
export function checkKql(query: string, tables: readonly KqlTableInput[]): KqlCheck {
  const k = kusto();
  const code = k.KustoCode.ParseAndAnalyze(query, schemaFor(tables).globals);
  return { errors: errorsOf(k, code) };
}

/**
 * `checkKql` plus the semantic facts: which table columns the query names (from the binder's
 * `ReferencedSymbol` of every syntax node, so columns of `externaldata`, `let` results or
 * `extend`s are not counted) and which result columns pass a table column through unchanged.
 */
export function analyseKql(query: string, tables: readonly KqlTableInput[]): KqlAnalysis {
  const k = kusto();
  const { globals, owners, tableNames: known } = schemaFor(tables);
  const code = k.KustoCode.ParseAndAnalyze(query, globals);
  const tableNames = new Set<string>();
  const references = new Map<string, KqlColumnReference>();
  code.Syntax.WalkNodes((node) => {
    const symbol = node.ReferencedSymbol;
    if (symbol === null) return;
    if (symbol.Kind === k.Symbols.SymbolKind.Table) {
      if (known.has(symbol.Name)) tableNames.add(symbol.Name);
      return;
    }
    const owner = owners.get(symbol);
    if (owner) references.set(`${owner.table}.${owner.column}`, owner);
  });
  const result = code.ResultType;
  const resultColumns = isTable(k, result)
    ? list(result.Columns).map((c): KqlResultColumn => {
        const source = owners.get(c);
        return source ? { name: c.Name, type: c.Type.Name, source } : { name: c.Name, type: c.Type.Name };
      })
    : [];
  return {
    errors: errorsOf(k, code),
    tables: [...tableNames],
    references: [...references.values()],
    resultColumns,
  };
}
