/** Lambda `guardduty-findings`: GuardDuty findings (EventBridge -> SQS) into Sentinel's AWSGuardDuty table. */
import { createForwarderHandler } from './forwarder.js';
import { defaultForwarderDeps } from './runtime.js';

export const handler = createForwarderHandler('guardduty', defaultForwarderDeps('guardduty-findings'));
