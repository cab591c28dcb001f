/** Lambda `s3-logs`: CloudTrail trail files and VPC Flow Log files (S3 -> SQS) into AWSCloudTrail and AWSVPCFlow. */
import { defaultS3LogsDeps } from './runtime.js';
import { createS3LogsHandler } from './s3-logs-handler.js';

export const handler = createS3LogsHandler(defaultS3LogsDeps('s3-logs'));
