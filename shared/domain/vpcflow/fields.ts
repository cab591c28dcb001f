/**
 * The fields of an AWS VPC flow log record and the `AWSVPCFlow` column each one feeds.
 *
 * Field names are spelled as in the header line of a flow log file delivered to S3 (and in a flow log's
 * `LogFormat`, without the `${...}`). Versions 2 to 5 follow the "Available fields" table of the Amazon VPC
 * User Guide ("Flow log records"); the Amazon ECS fields (version 7) are those Microsoft's AWS VPC Flow Logs
 * connector maps; `reject-reason`, `resource-id` and `encryption-status` are later additions that
 * `AWSVPCFlow` has no column for. Every plain-text value is a string; `-` means "not applicable to this
 * record" and leaves the column absent.
 *
 * Kinds say how the text is read:
 * - `string`: verbatim;
 * - `int`: digits only, at most 2^31 - 1 (the columns are 32-bit `int`);
 * - `long`: digits only, at most Number.MAX_SAFE_INTEGER (2^53 - 1), beyond which a JS number loses units;
 * - `unix-seconds`: digits only, whole seconds since 1970-01-01T00:00:00Z, sent as an ISO 8601 instant.
 *
 * A field without `column` is parsed (its position counts) and then dropped: `AWSVPCFlow` is a built-in
 * table and would silently drop an extra column anyway (DESIGN section 4).
 */

export type FlowLogFieldKind = 'string' | 'int' | 'long' | 'unix-seconds';

export interface FlowLogField {
  /** Hyphenated name, as in a header line: `account-id`. */
  readonly name: string;
  /** The flow log version that introduced the field. */
  readonly since: number;
  readonly kind: FlowLogFieldKind;
  /** The `AWSVPCFlow` column fed by the field; absent when the table has none (the field is dropped). */
  readonly column?: string;
}

const f = (name: string, since: number, kind: FlowLogFieldKind, column: string): FlowLogField => ({
  name,
  since,
  kind,
  column,
});
const dropped = (name: string, since: number): FlowLogField => ({ name, since, kind: 'string' });

export const FLOW_LOG_FIELDS: readonly FlowLogField[] = [
  f('version', 2, 'int', 'Version'),
  f('account-id', 2, 'string', 'AccountId'),
  f('interface-id', 2, 'string', 'InterfaceId'),
  f('srcaddr', 2, 'string', 'SrcAddr'),
  f('dstaddr', 2, 'string', 'DstAddr'),
  f('srcport', 2, 'int', 'SrcPort'),
  f('dstport', 2, 'int', 'DstPort'),
  f('protocol', 2, 'int', 'Protocol'),
  // `Packets` is an `int` column, but the count is read like `bytes` (up to 2^53 - 1) so that no record is
  // refused for it; a Nitro interface aggregates over at most 60 s, far below 2^31 packets per flow.
  f('packets', 2, 'long', 'Packets'),
  f('bytes', 2, 'long', 'Bytes'),
  f('start', 2, 'unix-seconds', 'Start'),
  f('end', 2, 'unix-seconds', 'End'),
  f('action', 2, 'string', 'Action'),
  f('log-status', 2, 'string', 'LogStatus'),
  f('vpc-id', 3, 'string', 'VpcId'),
  f('subnet-id', 3, 'string', 'SubnetId'),
  f('instance-id', 3, 'string', 'InstanceId'),
  f('tcp-flags', 3, 'int', 'TcpFlags'),
  f('type', 3, 'string', 'TrafficType'),
  f('pkt-srcaddr', 3, 'string', 'PktSrcAddr'),
  f('pkt-dstaddr', 3, 'string', 'PktDstAddr'),
  f('region', 4, 'string', 'Region'),
  f('az-id', 4, 'string', 'AzId'),
  f('sublocation-type', 4, 'string', 'SublocationType'),
  f('sublocation-id', 4, 'string', 'SublocationId'),
  f('pkt-src-aws-service', 5, 'string', 'PktSrcAwsService'),
  f('pkt-dst-aws-service', 5, 'string', 'PktDstAwsService'),
  f('flow-direction', 5, 'string', 'FlowDirection'),
  // A number (1 = same VPC ... 8 = internet gateway) in a string column: kept as the text AWS wrote.
  f('traffic-path', 5, 'string', 'TrafficPath'),
  f('ecs-cluster-arn', 7, 'string', 'EcsClusterArn'),
  f('ecs-cluster-name', 7, 'string', 'EcsClusterName'),
  f('ecs-container-instance-arn', 7, 'string', 'EcsContainerInstanceArn'),
  f('ecs-container-instance-id', 7, 'string', 'EcsContainerInstanceId'),
  f('ecs-container-id', 7, 'string', 'EcsContainerId'),
  f('ecs-second-container-id', 7, 'string', 'EcsSecondContainerId'),
  f('ecs-service-name', 7, 'string', 'EcsServiceName'),
  f('ecs-task-definition-arn', 7, 'string', 'EcsTaskDefinitionArn'),
  f('ecs-task-arn', 7, 'string', 'EcsTaskArn'),
  f('ecs-task-id', 7, 'string', 'EcsTaskId'),
  // No AWSVPCFlow column: parsed, then dropped. (Versions of the last two from third-party references.)
  dropped('reject-reason', 8),
  dropped('resource-id', 9),
  dropped('encryption-status', 10),
];

/** The default format (all version 2 fields, in this order); a flow log created without a format has it. */
export const DEFAULT_FORMAT_FIELDS: readonly string[] = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
];

/** The header line of a flow log file in the default format. */
export const DEFAULT_FLOW_LOG_HEADER = DEFAULT_FORMAT_FIELDS.join(' ');

/**
 * The field `TimeGenerated` is taken from: the start of the flow within the aggregation interval, as in
 * Microsoft's own connector. A format without it is refused rather than stamped with the ingestion time.
 */
export const TIME_GENERATED_FIELD = 'start';

const BY_NAME: ReadonlyMap<string, FlowLogField> = new Map(
  FLOW_LOG_FIELDS.map((field) => [field.name, field]),
);

export function flowLogField(name: string): FlowLogField | undefined {
  return BY_NAME.get(name);
}
