import {
  AccessDeniedException,
  ArchiveFindingsCommand,
  type ArchiveFindingsCommandInput,
  BadRequestException,
  type Finding,
  Finding$,
  GetFindingsCommand,
  type GetFindingsCommandInput,
  type GetFindingsCommandOutput,
  GuardDutyClient,
  GuardDutyServiceException,
  InternalServerErrorException,
  ListDetectorsCommand,
  type ListDetectorsCommandInput,
  type ListDetectorsCommandOutput,
  ResourceNotFoundException,
  UnarchiveFindingsCommand,
  type UnarchiveFindingsCommandInput,
  UpdateFindingsFeedbackCommand,
  type UpdateFindingsFeedbackCommandInput,
} from '@aws-sdk/client-guardduty';
import { JsonShapeDeserializer } from '@aws-sdk/core/protocols';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../../shared/respond/types.js';

/** One UpdateFindingsFeedback the model received and applied. */
export interface RecordedFeedback {
  readonly detectorId: string;
  readonly findingIds: readonly string[];
  readonly feedback: 'USEFUL' | 'NOT_USEFUL';
  readonly comments?: string;
}

export interface GuardDutySnapshot {
  /** Findings by detector id, then finding id, in the SDK's shape. */
  detectors: Record<string, Record<string, Finding>>;
  feedback: RecordedFeedback[];
}

/**
 * A stateful model of GuardDuty in one account and region behind the real `GuardDutyClient`
 * (aws-sdk-client-mock on the model's own instance): detectors holding findings, archive state and
 * feedback.
 *
 * Findings are seeded from the real finding JSON (the `GetFindings` wire body's `findings[]` entries, which
 * is also an EventBridge event's `detail`; a whole EventBridge envelope is accepted too) and converted to the
 * SDK's shape by the SDK's own JSON deserialiser with the `Finding` schema, so tests see exactly what the
 * SDK would return (`Service.Archived`, `Resource.AccessKeyDetails.UserName`, ...).
 *
 * Behaviour modelled: an unknown detector id is a `BadRequestException` (as GuardDuty answers);
 * `GetFindings` omits ids it does not know; archiving, unarchiving or giving feedback on an unknown
 * finding id is a `BadRequestException` (conservative: the model would rather surface a wrong id);
 * `UpdateFindingsFeedback` sets `Service.UserFeedback` and is recorded in `feedback`. Not modelled:
 * the administrator/member distinction (only administrators may archive), filters, suppression rules.
 */
export class GuardDutyModel {
  readonly accountId: string;
  readonly region: string;
  readonly client: GuardDutyClient;
  readonly calls: { readonly operation: string; readonly input: Readonly<Record<string, unknown>> }[] = [];

  private state: { detectors: Map<string, Map<string, Finding>>; feedback: RecordedFeedback[] } = {
    detectors: new Map(),
    feedback: [],
  };
  private readonly failures = new Map<string, Error[]>();
  private readonly ignored = new Map<string, number>();

  constructor(options: { readonly accountId?: string; readonly region?: string } = {}) {
    this.accountId = options.accountId ?? '111122223333';
    this.region = options.region ?? 'eu-west-1';
    this.client = new GuardDutyClient({
      region: this.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const mock = mockClient(this.client);
    mock.send.callsFake(async (command: object) => {
      const operation = command.constructor.name.replace(/Command$/, '');
      throw guardDutyError('UnmodelledOperation', `GuardDutyModel does not model GuardDuty ${operation}`);
    });
    mock
      .on(ListDetectorsCommand)
      .callsFake(this.handler('ListDetectors', false, (i) => this.listDetectors(i)));
    mock.on(GetFindingsCommand).callsFake(this.handler('GetFindings', false, (i) => this.getFindings(i)));
    mock
      .on(ArchiveFindingsCommand)
      .callsFake(this.handler('ArchiveFindings', true, (i) => this.setArchived(i, true)));
    mock
      .on(UnarchiveFindingsCommand)
      .callsFake(this.handler('UnarchiveFindings', true, (i) => this.setArchived(i, false)));
    mock
      .on(UpdateFindingsFeedbackCommand)
      .callsFake(this.handler('UpdateFindingsFeedback', true, (i) => this.updateFeedback(i)));
  }

  clients(): Pick<AwsClients, 'guardduty'> {
    return { guardduty: this.client };
  }

  // ---- seeding --------------------------------------------------------------------------------------------

  /** A detector (32 hex characters); returns its id. */
  addDetector(detectorId = '12abc34d567e8fa901bc2d34e56789f0'): string {
    if (!this.state.detectors.has(detectorId)) this.state.detectors.set(detectorId, new Map());
    return detectorId;
  }

  /**
   * Seeds a finding from its real JSON (camelCase wire shape, or an EventBridge envelope around it).
   * `overrides` replace the id, the detector (default: the finding's `service.detectorId`, else the only
   * detector) and the archive state. Returns the stored finding in the SDK's shape.
   */
  addFinding(
    json: unknown,
    overrides: { readonly id?: string; readonly detectorId?: string; readonly archived?: boolean } = {},
  ): Finding {
    const finding = findingFromJson(json);
    if (overrides.id !== undefined) {
      finding.Id = overrides.id;
      if (finding.Arn) finding.Arn = finding.Arn.replace(/finding\/[^/]+$/, `finding/${overrides.id}`);
    }
    const service = { ...finding.Service };
    const detectorId = overrides.detectorId ?? service.DetectorId ?? this.onlyDetector();
    if (overrides.archived !== undefined) service.Archived = overrides.archived;
    finding.Service = { ...service, DetectorId: detectorId, Archived: service.Archived ?? false };
    if (!finding.Id) throw new Error('GuardDutyModel: the finding has no id');
    this.addDetector(detectorId);
    this.state.detectors.get(detectorId)?.set(finding.Id, finding);
    return structuredClone(finding);
  }

  // ---- test controls --------------------------------------------------------------------------------------

  /** The next call of `operation` rejects with `code` (`BadRequestException`, `AccessDeniedException`, ...). */
  failNext(operation: string, code: string, message = `injected ${code}`): this {
    const queue = this.failures.get(operation) ?? [];
    queue.push(guardDutyError(code, message));
    this.failures.set(operation, queue);
    return this;
  }

  /** The next call of the write `operation` answers success but changes nothing. */
  ignoreNext(operation: string): this {
    this.ignored.set(operation, (this.ignored.get(operation) ?? 0) + 1);
    return this;
  }

  snapshot(): GuardDutySnapshot {
    const detectors: GuardDutySnapshot['detectors'] = {};
    for (const [id, findings] of this.state.detectors)
      detectors[id] = Object.fromEntries(structuredClone(findings));
    return { detectors, feedback: structuredClone(this.state.feedback) };
  }

  /** One finding in the SDK's shape (undefined when unknown). */
  finding(findingId: string, detectorId?: string): Finding | undefined {
    for (const [id, findings] of this.state.detectors) {
      if (detectorId !== undefined && id !== detectorId) continue;
      const finding = findings.get(findingId);
      if (finding) return structuredClone(finding);
    }
    return undefined;
  }

  get feedback(): readonly RecordedFeedback[] {
    return this.state.feedback;
  }

  writeCalls(): string[] {
    return this.calls.filter((c) => GUARDDUTY_WRITE_OPERATIONS.has(c.operation)).map((c) => c.operation);
  }

  // ---- operations -----------------------------------------------------------------------------------------

  private handler<I extends object, O extends object>(
    operation: string,
    write: boolean,
    fn: (input: I) => O,
  ): (input: I) => Promise<O & { $metadata: GetFindingsCommandOutput['$metadata'] }> {
    return async (input: I) => {
      this.calls.push({ operation, input: structuredClone(Object.fromEntries(Object.entries(input))) });
      const failure = this.failures.get(operation)?.shift();
      if (failure) throw failure;
      const $metadata = {
        httpStatusCode: 200,
        requestId: '00000000-0000-4000-8000-000000000000',
        attempts: 1,
      };
      if (!write || (this.ignored.get(operation) ?? 0) === 0) return { ...fn(input), $metadata };
      this.ignored.set(operation, (this.ignored.get(operation) ?? 1) - 1);
      const saved = structuredClone(this.state);
      const output = fn(input);
      this.state = saved;
      return { ...output, $metadata };
    };
  }

  private listDetectors(_input: ListDetectorsCommandInput): Omit<ListDetectorsCommandOutput, '$metadata'> {
    return { DetectorIds: [...this.state.detectors.keys()] };
  }

  private getFindings(input: GetFindingsCommandInput): Omit<GetFindingsCommandOutput, '$metadata'> {
    const findings = this.detector(input.DetectorId);
    const ids = findingIds(input.FindingIds);
    return {
      Findings: ids.flatMap((id) => {
        const finding = findings.get(id);
        return finding ? [structuredClone(finding)] : [];
      }),
    };
  }

  private setArchived(
    input: ArchiveFindingsCommandInput | UnarchiveFindingsCommandInput,
    archived: boolean,
  ): object {
    const findings = this.detector(input.DetectorId);
    for (const finding of this.known(findings, findingIds(input.FindingIds))) {
      finding.Service = { ...finding.Service, Archived: archived };
    }
    return {};
  }

  private updateFeedback(input: UpdateFindingsFeedbackCommandInput): object {
    const findings = this.detector(input.DetectorId);
    const ids = findingIds(input.FindingIds);
    if (input.Feedback !== 'USEFUL' && input.Feedback !== 'NOT_USEFUL') {
      throw guardDutyError('BadRequestException', `The request is rejected because the feedback is invalid.`);
    }
    for (const finding of this.known(findings, ids)) {
      finding.Service = { ...finding.Service, UserFeedback: input.Feedback };
    }
    this.state.feedback.push({
      detectorId: input.DetectorId ?? '',
      findingIds: ids,
      feedback: input.Feedback,
      ...(input.Comments !== undefined ? { comments: input.Comments } : {}),
    });
    return {};
  }

  private detector(detectorId: string | undefined): Map<string, Finding> {
    const findings = detectorId === undefined ? undefined : this.state.detectors.get(detectorId);
    if (!findings) {
      throw guardDutyError(
        'BadRequestException',
        'The request is rejected because the input detectorId is not owned by the current account.',
      );
    }
    return findings;
  }

  private known(findings: Map<string, Finding>, ids: readonly string[]): Finding[] {
    return ids.map((id) => {
      const finding = findings.get(id);
      if (!finding) {
        throw guardDutyError(
          'BadRequestException',
          `The request is rejected because the finding ${id} is not found.`,
        );
      }
      return finding;
    });
  }

  private onlyDetector(): string {
    const ids = [...this.state.detectors.keys()];
    if (ids.length === 1 && ids[0] !== undefined) return ids[0];
    return this.addDetector();
  }
}

export const GUARDDUTY_WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'ArchiveFindings',
  'UnarchiveFindings',
  'UpdateFindingsFeedback',
]);

const deserializer = new JsonShapeDeserializer({
  jsonName: true,
  timestampFormat: { useTrait: true, default: 7 /* epoch seconds, as restJson1 */ },
});

/** A finding in the SDK's shape from its wire JSON (or an EventBridge envelope), via the SDK's deserialiser. */
export function findingFromJson(json: unknown): Finding {
  const detail =
    isRecord(json) && json.source === 'aws.guardduty' && isRecord(json.detail) ? json.detail : json;
  if (!isRecord(detail) || typeof detail.id !== 'string') {
    throw new Error('GuardDutyModel: expected a GuardDuty finding (camelCase JSON with an id)');
  }
  const finding: Finding = deserializer.readObject(Finding$, JSON.parse(JSON.stringify(detail)));
  return finding;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function findingIds(ids: readonly string[] | undefined): string[] {
  if (!ids || ids.length === 0 || ids.length > 50) {
    throw guardDutyError(
      'BadRequestException',
      'The request is rejected because findingIds must hold 1 to 50 ids.',
    );
  }
  return [...ids];
}

type ErrorFactory = (message: string) => Error;
const opts = (message: string) => ({ message, Message: message, $metadata: { httpStatusCode: 400 } });
const MODELLED: Readonly<Record<string, ErrorFactory>> = {
  BadRequestException: (m) => new BadRequestException(opts(m)),
  AccessDeniedException: (m) => new AccessDeniedException({ ...opts(m), $metadata: { httpStatusCode: 403 } }),
  InternalServerErrorException: (m) =>
    new InternalServerErrorException({ ...opts(m), $metadata: { httpStatusCode: 500 } }),
  ResourceNotFoundException: (m) =>
    new ResourceNotFoundException({ ...opts(m), $metadata: { httpStatusCode: 404 } }),
};

/** The error the SDK throws for a GuardDuty error response of this type (`x-amzn-errortype`). */
export function guardDutyError(code: string, message: string): Error {
  return (
    MODELLED[code]?.(message) ??
    new GuardDutyServiceException({
      name: code,
      $fault: 'client',
      message,
      $metadata: { httpStatusCode: 400 },
    })
  );
}
