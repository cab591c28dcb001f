/**
 * Columns of the built-in Sentinel table `AWSVPCFlow`: one row per VPC flow log record.
 *
 * Names and types follow Microsoft's table reference (`Type`, `TenantId`, `_BilledSize`, `_IsBillable` and
 * `SourceSystem` are set by Log Analytics and are never sent). The flow log field feeding each column is in
 * `source`; the parser's side of the same mapping is `shared/domain/vpcflow/fields.ts`.
 *
 * `TimeGenerated` is the flow's `start`, as in the DCR transform of Microsoft's own AWS VPC Flow Logs
 * connector (Azure/Azure-Sentinel `Solutions/AWS VPC Flow Logs`), which projects
 * `TimeGenerated = datetime(1970-01-01) + tolong(start) * 1sec`. That transform leaves `Start` empty; we fill
 * it too (same instant), so queries written for either convention work.
 *
 * The IPv4 / IPv6 / EFA value is in `TrafficType` (the flow log field `type`): `Type` is the table name.
 */
import type { ColumnDefinition, ColumnType, TableDefinition } from './columns.js';

const c = (name: string, type: ColumnType, source: string): ColumnDefinition => ({ name, type, source });

export const AWS_VPCFLOW = {
  table: 'AWSVPCFlow' as const,
  stream: 'Custom-AWSVPCFlow',
  outputStream: 'Microsoft-AWSVPCFlow',
  columns: [
    c('TimeGenerated', 'datetime', "start, unix seconds -> datetime (as Microsoft's connector sets it)"),
    // Version 2 (the default format).
    c('Version', 'int', 'version (the highest version among the fields of the format)'),
    c('AccountId', 'string', 'account-id ("unknown" for some network interfaces of AWS services)'),
    c('InterfaceId', 'string', 'interface-id'),
    c('SrcAddr', 'string', 'srcaddr'),
    c('DstAddr', 'string', 'dstaddr'),
    c('SrcPort', 'int', 'srcport'),
    c('DstPort', 'int', 'dstport'),
    c('Protocol', 'int', 'protocol (IANA protocol number)'),
    c('Packets', 'int', 'packets'),
    c('Bytes', 'long', 'bytes'),
    c('Start', 'datetime', 'start, unix seconds -> datetime'),
    c('End', 'datetime', 'end, unix seconds -> datetime'),
    c('Action', 'string', 'action (ACCEPT / REJECT)'),
    c('LogStatus', 'string', 'log-status (OK / NODATA / SKIPDATA)'),
    // Version 3.
    c('VpcId', 'string', 'vpc-id'),
    c('SubnetId', 'string', 'subnet-id'),
    c('InstanceId', 'string', 'instance-id'),
    c('TcpFlags', 'int', 'tcp-flags (bitmask, OR-ed over the aggregation interval)'),
    c('TrafficType', 'string', 'type (IPv4 / IPv6 / EFA)'),
    c('PktSrcAddr', 'string', 'pkt-srcaddr'),
    c('PktDstAddr', 'string', 'pkt-dstaddr'),
    // Version 4.
    c('Region', 'string', 'region'),
    c('AzId', 'string', 'az-id'),
    c('SublocationType', 'string', 'sublocation-type (wavelength / outpost / localzone)'),
    c('SublocationId', 'string', 'sublocation-id'),
    // Version 5.
    c('PktSrcAwsService', 'string', 'pkt-src-aws-service'),
    c('PktDstAwsService', 'string', 'pkt-dst-aws-service'),
    c('FlowDirection', 'string', 'flow-direction (ingress / egress)'),
    c('TrafficPath', 'string', 'traffic-path (a number 1-8, kept as text: the column is a string)'),
    // Version 7 (Amazon ECS).
    c('EcsClusterArn', 'string', 'ecs-cluster-arn'),
    c('EcsClusterName', 'string', 'ecs-cluster-name'),
    c('EcsContainerInstanceArn', 'string', 'ecs-container-instance-arn'),
    c('EcsContainerInstanceId', 'string', 'ecs-container-instance-id'),
    c('EcsContainerId', 'string', 'ecs-container-id'),
    c('EcsSecondContainerId', 'string', 'ecs-second-container-id'),
    c('EcsServiceName', 'string', 'ecs-service-name'),
    c('EcsTaskDefinitionArn', 'string', 'ecs-task-definition-arn'),
    c('EcsTaskArn', 'string', 'ecs-task-arn'),
    c('EcsTaskId', 'string', 'ecs-task-id'),
  ],
} satisfies TableDefinition;
