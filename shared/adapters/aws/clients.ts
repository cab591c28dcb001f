import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { IAMClient } from '@aws-sdk/client-iam';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AwsClients } from '../../respond/types.js';

/**
 * Real SDK clients for one account and region. No endpoint is set here, so `AWS_ENDPOINT_URL` (and the
 * per-service `AWS_ENDPOINT_URL_EC2`, ...) keep working; without credentials the default chain is used.
 */
export function createAwsClients(region: string, credentials?: AwsCredentialIdentityProvider): AwsClients {
  const config = { region, ...(credentials ? { credentials } : {}), maxAttempts: 4 };
  return {
    ec2: new EC2Client(config),
    // IAM is global: its endpoint lives in us-east-1 (aws partition); the SDK resolves that from any region.
    iam: new IAMClient(config),
    guardduty: new GuardDutyClient(config),
    autoscaling: new AutoScalingClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
  };
}
