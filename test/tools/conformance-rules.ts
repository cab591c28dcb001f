/**
 * Conformance run (CI, when ../shared exists): compiles the full KQL of every rule in a directory
 * of Sentinel rule YAML files against the project's column definitions (our columns, plus the
 * system columns Log Analytics adds and the Microsoft columns we leave empty), one line per
 * rule, and exits 1 when any rule does not compile.
 *
 *   node --import tsx test/tools/conformance-rules.ts ../shared/fixtures/sentinel/rules [<schemas dir>]
 *
 * When a schemas directory exists (second argument, default `<rules>/../schemas`), every
 * `<Table>.tsv` of a table we define is also compared with that table as queries see it
 * (names and Kusto types), one line per table.
 *
 * `externaldata` (AWS_APIfromTor) needs no special case: the language service types its
 * columns from the inline schema and does not fetch the URL, so it reports nothing for it.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TABLES } from '../../shared/domain/tables/columns.js';
import { checkKql, type KqlTable, kqlTable } from '../support/kql.js';
import { readRuleFiles, readSchemas } from './extract-rule-columns.js';

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

function compareSchema(ours: KqlTable, microsoft: KqlTable): string[] {
  const problems: string[] = [];
  const mine = new Map(ours.columns.map((c) => [c.name, c.type]));
  const theirs = new Map(microsoft.columns.map((c) => [c.name, c.type]));
  for (const [name, type] of theirs) {
    const own = mine.get(name);
    if (own === undefined) problems.push(`missing ${name}:${type}`);
    else if (own !== type) problems.push(`${name} is ${own}, Microsoft's is ${type}`);
  }
  for (const name of mine.keys()) if (!theirs.has(name)) problems.push(`${name} is not in Microsoft's table`);
  return problems;
}

function main(argv: readonly string[]): number {
  const [rulesDir, schemasArg] = argv;
  if (rulesDir === undefined) {
    console.error('usage: conformance-rules.ts <rules dir> [<schemas dir>]');
    return 2;
  }
  let failures = 0;

  const schemasDir = schemasArg ?? join(dirname(resolve(rulesDir)), 'schemas');
  if (existsSync(schemasDir)) {
    const microsoft = readSchemas(schemasDir);
    for (const definition of TABLES) {
      const theirs = microsoft.find((t) => t.name === definition.table);
      if (theirs === undefined) continue;
      const problems = compareSchema(kqlTable(definition), theirs);
      if (problems.length > 0) failures++;
      console.log(
        problems.length === 0
          ? `ok    schema ${definition.table}: ${theirs.columns.length} columns match`
          : `FAIL  schema ${definition.table}: ${problems.join('; ')}`,
      );
    }
  }

  const rules = readRuleFiles(rulesDir);
  if (rules.length === 0) {
    console.error(`${rulesDir}: no *.yaml rules`);
    return 1;
  }
  for (const rule of rules) {
    const { errors } = checkKql(rule.query, TABLES);
    if (errors.length === 0) {
      console.log(`ok    ${rule.file} (${rule.name})`);
      continue;
    }
    failures++;
    const details = errors.map((e) => `${lineAndColumn(rule.query, e.start)} ${e.code} ${e.message}`);
    console.log(`FAIL  ${rule.file} (${rule.name}): ${details.join('; ')}`);
  }
  console.log(
    failures === 0
      ? `${rules.length} rules compile against our column definitions`
      : `${failures} failure(s); ${rules.length} rules checked`,
  );
  return failures === 0 ? 0 : 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
