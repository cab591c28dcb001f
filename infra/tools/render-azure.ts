/**
 * Generates `infra/azure/azuredeploy.json` from the code (column definitions, responder settings, Sentinel
 * content), formatted the way Biome keeps it, and the permission table of `infra/azure/README.md`.
 *
 *   node --import tsx infra/tools/render-azure.ts           # write both
 *   node --import tsx infra/tools/render-azure.ts --check   # exit 1 when a committed file is stale
 *
 * A unit test fails when the committed files differ from what this produces.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Json } from './azure/arm.js';
import { describeRoleGrants, renderAzureTemplate } from './azure/template.js';

export const AZURE_TEMPLATE = new URL('../azure/azuredeploy.json', import.meta.url);
export const AZURE_README = new URL('../azure/README.md', import.meta.url);
const ROOT = new URL('../../', import.meta.url);

/** `JSON.stringify` then Biome's JSON formatter (the repository's biome.json), so `biome check` keeps it. */
export function formatJson(value: Json, file: URL): string {
  const require = createRequire(import.meta.url);
  const biome = require.resolve('@biomejs/biome/bin/biome');
  const relative = fileURLToPath(file).slice(fileURLToPath(ROOT).length);
  const result = spawnSync(process.execPath, [biome, 'format', `--stdin-file-path=${relative}`], {
    cwd: fileURLToPath(ROOT),
    input: `${JSON.stringify(value, null, 2)}\n`,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`biome format failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

export function renderAzureTemplateText(): string {
  return formatJson(renderAzureTemplate(), AZURE_TEMPLATE);
}

export function readAzureTemplateText(): string {
  return readFileSync(AZURE_TEMPLATE, 'utf8');
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');

/** The table of every role the template grants. */
export function permissionsTable(): string {
  return [
    '| Principal | Role (built-in id) | Scope (one resource) | Why |',
    '| --- | --- | --- | --- |',
    ...describeRoleGrants().map(
      (g) =>
        `| ${escapeCell(g.principal)} | ${g.role} (\`${g.roleId}\`) | ${escapeCell(g.scope)} | ${escapeCell(g.why)} |`,
    ),
  ].join('\n');
}

const SECTION = /(<!-- generated:permissions -->\n)(?:[\s\S]*?\n)?(<!-- \/generated:permissions -->)/;

/** The README with its generated section replaced. */
export function renderAzureReadme(current: string): string {
  if (!SECTION.test(current)) throw new Error('infra/azure/README.md has no generated:permissions section');
  return current.replace(
    SECTION,
    (_, open: string, close: string) => `${open}${permissionsTable()}\n${close}`,
  );
}

export function readAzureReadme(): string {
  return readFileSync(AZURE_README, 'utf8');
}

function main(args: readonly string[]): number {
  const text = renderAzureTemplateText();
  const readme = readAzureReadme();
  const renderedReadme = renderAzureReadme(readme);
  if (args.includes('--check')) {
    const stale = [
      ...(readAzureTemplateText() === text ? [] : ['infra/azure/azuredeploy.json']),
      ...(readme === renderedReadme ? [] : ['infra/azure/README.md']),
    ];
    if (stale.length === 0) return 0;
    console.error(`${stale.join(' and ')} stale: run node --import tsx infra/tools/render-azure.ts`);
    return 1;
  }
  writeFileSync(AZURE_TEMPLATE, text);
  writeFileSync(AZURE_README, renderedReadme);
  console.log('wrote infra/azure/azuredeploy.json and infra/azure/README.md');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
