/** Lambda `iam-changes`: CloudTrail IAM changes (EventBridge in us-east-1 -> SQS) into Sentinel's AWSCloudTrail table. */
import { createForwarderHandler } from './forwarder.js';
import { defaultForwarderDeps } from './runtime.js';

export const handler = createForwarderHandler('cloudtrail', defaultForwarderDeps('iam-changes'));
