import { readFile } from 'node:fs/promises';

export interface InputItem {
  /** Position of the item in the input (0-based), for error messages. */
  readonly index: number;
  readonly value: unknown;
  /** Length of the item's JSON text when it is known exactly (JSON lines). */
  readonly textLength?: number;
}

export interface InputError {
  readonly index: number;
  readonly reason: string;
}

/**
 * Items of a CLI input: one JSON value, a JSON array of values, JSON lines (one value per line), or a
 * CloudTrail log file (`{"Records":[...]}`), which contributes its records.
 */
export function parseItems(text: string): { items: InputItem[]; errors: InputError[] } {
  const trimmed = text.trim();
  if (trimmed === '') return { items: [], errors: [{ index: 0, reason: 'the input is empty' }] };
  try {
    return { items: expand(JSON.parse(trimmed)), errors: [] };
  } catch {
    // Not one JSON document: read it as JSON lines.
  }
  const items: InputItem[] = [];
  const errors: InputError[] = [];
  let index = 0;
  for (const line of trimmed.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    try {
      items.push({ index, value: JSON.parse(line), textLength: line.length });
    } catch (error) {
      errors.push({ index, reason: `line ${index + 1} is not JSON (${(error as Error).message})` });
    }
    index++;
  }
  return { items, errors };
}

function expand(value: unknown): InputItem[] {
  if (Array.isArray(value)) return value.map((v, index) => ({ index, value: v }));
  if (typeof value === 'object' && value !== null && 'Records' in value && Array.isArray(value.Records)) {
    return value.Records.map((v: unknown, index: number) => ({ index, value: v }));
  }
  return [{ index: 0, value }];
}

export async function readInput(file: string | undefined): Promise<string> {
  if (file !== undefined && file !== '-') {
    const data = await readFile(file);
    // CloudTrail delivers trail files gzipped; accept them as they come.
    if (data[0] === 0x1f && data[1] === 0x8b) {
      const { gunzipSync } = await import('node:zlib');
      return gunzipSync(data).toString('utf8');
    }
    return data.toString('utf8');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Which source an item belongs to, from its envelope or its shape; undefined when it cannot be told. */
export function detectSource(value: unknown): 'guardduty' | 'cloudtrail' | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const detailType = v['detail-type'];
  if (detailType === 'GuardDuty Finding' || v.source === 'aws.guardduty') return 'guardduty';
  if (typeof detailType === 'string' && detailType.endsWith('via CloudTrail')) return 'cloudtrail';
  const detail =
    typeof v.detail === 'object' && v.detail !== null ? (v.detail as Record<string, unknown>) : v;
  if ('eventName' in detail && 'eventSource' in detail) return 'cloudtrail';
  if ('severity' in detail && 'type' in detail) return 'guardduty';
  return undefined;
}
