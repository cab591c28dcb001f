/**
 * Helpers for tests over the real `serverless package` output: run the packager in isolation, load
 * the CloudFormation template, evaluate its conditions for a region, follow references, and read the
 * function zips (central directory + inflate, no `unzip` binary needed).
 */

import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

// ------------------------------------------------------------------------------------------- template model

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource {
  readonly Type: string;
  readonly Properties?: JsonObject;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
}

export interface Output {
  readonly Value: Json;
  readonly Condition?: string;
}

export interface Template {
  readonly Resources: Record<string, Resource>;
  readonly Conditions?: JsonObject;
  readonly Outputs?: Record<string, Output>;
  readonly Parameters?: JsonObject;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a property path (`'RedrivePolicy.deadLetterTargetArn'`), or undefined. */
export function prop(value: Json | undefined, path: string): Json | undefined {
  let current: Json | undefined = value;
  for (const key of path.split('.')) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function asArray(value: Json | undefined): Json[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** `{ "Fn::GetAtt": [id, attribute] }` */
export function getAtt(logicalId: string, attribute: string): Json {
  return { 'Fn::GetAtt': [logicalId, attribute] };
}

/** `{ "Ref": id }` */
export function ref(logicalId: string): Json {
  return { Ref: logicalId };
}

/** The logical id a `Ref` or `Fn::GetAtt` points at (for `attribute` when given), else undefined. */
export function target(value: Json | undefined, attribute?: string): string | undefined {
  if (!isObject(value)) return undefined;
  const refValue = value.Ref;
  if (typeof refValue === 'string') return attribute === undefined ? refValue : undefined;
  const att = value['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string' && (attribute === undefined || att[1] === attribute)) {
    return att[0];
  }
  if (typeof att === 'string') {
    const [id, attr] = att.split('.');
    if (id !== undefined && (attribute === undefined || attr === attribute)) return id;
  }
  return undefined;
}

// ------------------------------------------------------------------------------ conditions and intrinsics

export interface Deployment {
  readonly region: string;
  readonly accountId?: string;
  readonly partition?: string;
}

/** Evaluates a named condition the way CloudFormation would in the given region. */
export function evaluateCondition(template: Template, name: string, deployment: Deployment): boolean {
  const definition = template.Conditions?.[name];
  if (definition === undefined) throw new Error(`no condition ${name} in the template`);
  return evaluateConditionExpression(template, definition, deployment);
}

function evaluateConditionExpression(template: Template, expression: Json, deployment: Deployment): boolean {
  if (!isObject(expression)) throw new Error(`not a condition expression: ${JSON.stringify(expression)}`);
  const [fn, args] = singleEntry(expression);
  const list = asArray(args);
  switch (fn) {
    case 'Condition':
      if (typeof args !== 'string') throw new Error('Condition expects a name');
      return evaluateCondition(template, args, deployment);
    case 'Fn::Equals': {
      const [left, right] = list.map((item) => evaluate(template, item, deployment));
      return JSON.stringify(left) === JSON.stringify(right);
    }
    case 'Fn::Not':
      return !evaluateConditionExpression(template, first(list), deployment);
    case 'Fn::And':
      return list.every((item) => evaluateConditionExpression(template, item, deployment));
    case 'Fn::Or':
      return list.some((item) => evaluateConditionExpression(template, item, deployment));
    default:
      throw new Error(`unsupported condition function ${fn}`);
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves what can be known before deployment: `Fn::If` (by its condition), `AWS::NoValue` (dropped),
 * pseudo parameters, and `Fn::Join` / `Fn::Select` / `Fn::Split` over literals. `Ref` and `Fn::GetAtt`
 * of resources stay as they are, so tests can still see what points where.
 */
export function evaluate(template: Template, value: Json, deployment: Deployment): Json {
  const result = evaluateInner(template, value, deployment);
  if (result === NO_VALUE) throw new Error('the whole value is AWS::NoValue');
  return result;
}

function evaluateInner(template: Template, value: Json, deployment: Deployment): Json | typeof NO_VALUE {
  if (Array.isArray(value)) {
    return value.map((item) => evaluateInner(template, item, deployment)).filter((item) => item !== NO_VALUE);
  }
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [fn, args] = singleEntry(value);
    const list = asArray(args);
    switch (fn) {
      case 'Ref':
        if (args === 'AWS::NoValue') return NO_VALUE;
        if (args === 'AWS::Region') return deployment.region;
        if (args === 'AWS::AccountId') return deployment.accountId ?? '123456789012';
        if (args === 'AWS::Partition') return deployment.partition ?? 'aws';
        return value;
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = list;
        if (typeof condition !== 'string' || whenTrue === undefined || whenFalse === undefined) {
          throw new Error('Fn::If expects [condition, true value, false value]');
        }
        return evaluateInner(
          template,
          evaluateCondition(template, condition, deployment) ? whenTrue : whenFalse,
          deployment,
        );
      }
      case 'Fn::Join': {
        const [separator, items] = list;
        const parts = asArray(items).map((item) => evaluateInner(template, item, deployment));
        if (typeof separator === 'string' && parts.every((part) => typeof part === 'string')) {
          return parts.join(separator);
        }
        return value;
      }
      case 'Fn::Select': {
        const [index, items] = list;
        const resolved = evaluateInner(template, items ?? null, deployment);
        if (typeof index === 'number' && Array.isArray(resolved)) {
          const selected = resolved[index];
          if (selected === undefined) throw new Error(`Fn::Select index ${index} out of range`);
          return selected;
        }
        return value;
      }
      case 'Fn::Split': {
        const [separator, source] = list;
        const resolved = evaluateInner(template, source ?? null, deployment);
        if (typeof separator === 'string' && typeof resolved === 'string') return resolved.split(separator);
        return value;
      }
      default:
        break;
    }
  }
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const resolved = evaluateInner(template, item, deployment);
    if (resolved !== NO_VALUE) out[key] = resolved;
  }
  return out;
}

/** Whether a resource or output exists in a deployment to this region. */
export function isActive(
  template: Template,
  entry: { readonly Condition?: string },
  deployment: Deployment,
): boolean {
  return entry.Condition === undefined || evaluateCondition(template, entry.Condition, deployment);
}

/** The resources a deployment to this region creates, with their properties evaluated. */
export function activeResources(template: Template, deployment: Deployment): Record<string, Resource> {
  const out: Record<string, Resource> = {};
  for (const [id, entry] of Object.entries(template.Resources)) {
    if (!isActive(template, entry, deployment)) continue;
    const properties = entry.Properties ? evaluate(template, entry.Properties, deployment) : undefined;
    out[id] = { ...entry, ...(isObject(properties) ? { Properties: properties } : {}) };
  }
  return out;
}

/** Logical ids of resources and parameters a value points at (`Ref`, `Fn::GetAtt`, `Fn::Sub`), pseudo parameters excluded. */
export function references(value: Json | undefined): Set<string> {
  const found = new Set<string>();
  const visit = (node: Json | undefined): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (!isObject(node)) return;
    const direct = target(node);
    if (direct !== undefined) {
      if (!direct.startsWith('AWS::')) found.add(direct);
      return;
    }
    const sub = node['Fn::Sub'];
    if (sub !== undefined) {
      const [text, variables] = Array.isArray(sub) ? sub : [sub, {}];
      const local = isObject(variables) ? Object.keys(variables) : [];
      for (const match of String(text).matchAll(/\$\{([^}!]+)\}/g)) {
        const name = match[1]?.split('.')[0] ?? '';
        if (!name.startsWith('AWS::') && !local.includes(name)) found.add(name);
      }
      if (isObject(variables)) visit(variables);
      return;
    }
    for (const item of Object.values(node)) visit(item);
  };
  visit(value);
  return found;
}

function singleEntry(object: JsonObject): [string, Json] {
  const entries = Object.entries(object);
  const entry = entries[0];
  if (entries.length !== 1 || entry === undefined)
    throw new Error(`expected one key in ${JSON.stringify(object)}`);
  return entry;
}

function first(list: Json[]): Json {
  const item = list[0];
  if (item === undefined) throw new Error('expected an argument');
  return item;
}

// ----------------------------------------------------------------------------------------- IAM statements

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: Json[];
  readonly Principal?: Json;
  readonly Condition?: Json;
  readonly NotAction?: Json;
  readonly NotResource?: Json;
  readonly NotPrincipal?: Json;
}

/** The statements of a policy document, with Action and Resource normalised to arrays. */
export function statements(document: Json | undefined): Statement[] {
  return asArray(prop(document, 'Statement')).map((raw) => {
    if (!isObject(raw)) throw new Error(`not a statement: ${JSON.stringify(raw)}`);
    const actions = asArray(raw.Action).map((action) => {
      if (typeof action !== 'string') throw new Error(`non-literal action ${JSON.stringify(action)}`);
      return action;
    });
    const { Sid, Effect, Principal, Condition, NotAction, NotResource, NotPrincipal } = raw;
    return {
      ...(typeof Sid === 'string' ? { Sid } : {}),
      Effect: String(Effect),
      Action: actions,
      Resource: asArray(raw.Resource),
      ...(Principal !== undefined ? { Principal } : {}),
      ...(Condition !== undefined ? { Condition } : {}),
      ...(NotAction !== undefined ? { NotAction } : {}),
      ...(NotResource !== undefined ? { NotResource } : {}),
      ...(NotPrincipal !== undefined ? { NotPrincipal } : {}),
    };
  });
}

export interface PolicyDocument {
  /** Logical id of the resource that holds the document. */
  readonly owner: string;
  /** identity: what a role or user may do; resource: who may do what to a queue or bucket. */
  readonly kind: 'identity' | 'resource';
  readonly document: Json;
}

const IDENTITY_HOLDERS = new Set(['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group']);
const IDENTITY_POLICIES = new Set(['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::RolePolicy']);
const RESOURCE_POLICIES = new Set([
  'AWS::SQS::QueuePolicy',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::Events::EventBusPolicy',
]);

/** Every policy document of the given resources: inline role policies, IAM policies and resource policies. */
export function policyDocuments(resources: Record<string, Resource>): PolicyDocument[] {
  const out: PolicyDocument[] = [];
  for (const [owner, entry] of Object.entries(resources)) {
    const properties = entry.Properties;
    if (properties === undefined) continue;
    if (IDENTITY_HOLDERS.has(entry.Type)) {
      for (const policy of asArray(properties.Policies)) {
        out.push({ owner, kind: 'identity', document: prop(policy, 'PolicyDocument') ?? null });
      }
    } else if (IDENTITY_POLICIES.has(entry.Type)) {
      out.push({ owner, kind: 'identity', document: properties.PolicyDocument ?? null });
    } else if (RESOURCE_POLICIES.has(entry.Type)) {
      out.push({ owner, kind: 'resource', document: properties.PolicyDocument ?? null });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------- packaging

export interface PackageResult {
  readonly dir: string;
  readonly code: number;
  readonly output: string;
}

/**
 * Runs `serverless package` (osls, offline) in a private copy of the service: a temporary directory
 * holding serverless.yml and symlinks to every other top-level entry of the repository. `--package`
 * alone does not isolate runs, since osls always stages into `<service>/.serverless` (and deletes it
 * first) and serverless-esbuild builds in `<service>/.esbuild`; here both live in the temporary
 * directory, so parallel runs, and a developer's own `serverless package`, never share a file, and
 * the repository is never written to.
 */
export async function runServerlessPackage(args: readonly string[]): Promise<PackageResult> {
  const dir = await mkdtemp(join(tmpdir(), 'sls-package-'));
  const service = join(dir, 'service');
  await mkdir(service);
  for (const entry of await readdir(REPO_ROOT)) {
    if (['.git', '.serverless', '.esbuild', 'serverless.yml'].includes(entry)) continue;
    await symlink(join(REPO_ROOT, entry), join(service, entry));
  }
  // osls only accepts a regular file as its configuration.
  await copyFile(join(REPO_ROOT, 'serverless.yml'), join(service, 'serverless.yml'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  delete env.NODE_OPTIONS; // Jest's --experimental-vm-modules is not for the packager.
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'serverless');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, 'package', '--package', join(dir, 'out'), ...args],
      { cwd: service, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ dir, code, output: `${stdout}${stderr}` });
      },
    );
  });
}

export async function loadTemplate(packageDir: string): Promise<Template> {
  const text = await readFile(join(packageDir, 'out', 'cloudformation-template-update-stack.json'), 'utf8');
  const parsed: unknown = JSON.parse(text);
  if (!isObject(parsed) || !isObject(parsed.Resources)) throw new Error('not a CloudFormation template');
  return parsed as unknown as Template;
}

export async function removePackage(result: PackageResult | undefined): Promise<void> {
  if (result !== undefined) await rm(result.dir, { recursive: true, force: true });
}

// ------------------------------------------------------------------------------------------------ zips

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

export interface ZipArchive {
  readonly entries: readonly ZipEntry[];
  read(name: string): Buffer;
}

/** Reads a zip's central directory (no Zip64: Lambda zips are far below 4 GB) and inflates entries on demand. */
export async function readZip(path: string): Promise<ZipArchive> {
  const data = await readFile(path);
  const eocd = data.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${path} is not a zip file`);
  const count = data.readUInt16LE(eocd + 10);
  let offset = data.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index++) {
    if (data.readUInt32LE(offset) !== 0x02014b50) throw new Error(`bad central directory entry in ${path}`);
    const nameLength = data.readUInt16LE(offset + 28);
    const extraLength = data.readUInt16LE(offset + 30);
    const commentLength = data.readUInt16LE(offset + 32);
    entries.push({
      method: data.readUInt16LE(offset + 10),
      compressedSize: data.readUInt32LE(offset + 20),
      size: data.readUInt32LE(offset + 24),
      localHeaderOffset: data.readUInt32LE(offset + 42),
      name: data.toString('utf8', offset + 46, offset + 46 + nameLength),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return {
    entries,
    read(name: string): Buffer {
      const entry = entries.find((candidate) => candidate.name === name);
      if (entry === undefined) throw new Error(`${name} is not in ${path}`);
      const header = entry.localHeaderOffset;
      if (data.readUInt32LE(header) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
      const start = header + 30 + data.readUInt16LE(header + 26) + data.readUInt16LE(header + 28);
      const raw = data.subarray(start, start + entry.compressedSize);
      if (entry.method === 0) return Buffer.from(raw);
      if (entry.method === 8) return inflateRawSync(raw);
      throw new Error(`unsupported compression method ${entry.method} for ${name}`);
    },
  };
}

/**
 * Imports a bundled handler `file` (with its source map) of a Lambda zip in plain Node, from a directory without
 * node_modules, with `environment`; resolves with `typeof handler`. AWS calls at import would fail fast
 * (AWS_ENDPOINT_URL points at a closed port) instead of hanging.
 */
export async function importBundledHandler(
  zip: ZipArchive,
  file: string,
  environment: Readonly<Record<string, string>>,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-task-'));
  try {
    for (const name of [file, `${file}.map`]) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), zip.read(name));
    }
    return await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          'const m = await import(process.argv[1]); process.stdout.write(typeof m.handler);',
          pathToFileURL(join(dir, file)).href,
        ],
        {
          cwd: dir,
          timeout: 30_000,
          env: { PATH: process.env.PATH ?? '', ...environment, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
        },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
