import * as z from 'zod';

/**
 * The EventBridge event envelope (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html).
 * `detail` is validated by each source's schema. Only `detail` is required: EventBridge always sends the
 * full envelope, but events pasted into the CLI are often partial (region and detail only).
 */
export const eventBridgeEnvelopeSchema = z.looseObject({
  version: z.string().optional(),
  id: z.string().optional(),
  'detail-type': z.string().optional(),
  source: z.string().optional(),
  account: z.string().optional(),
  time: z.string().optional(),
  region: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.unknown(),
});

export type EventBridgeEnvelope = z.infer<typeof eventBridgeEnvelopeSchema>;

/** An object is taken as an envelope when it carries `detail` together with `detail-type` or `source`. */
export function isEnvelope(input: unknown): input is Record<string, unknown> & { detail: unknown } {
  return (
    typeof input === 'object' &&
    input !== null &&
    !Array.isArray(input) &&
    'detail' in input &&
    ('detail-type' in input || 'source' in input || 'region' in input)
  );
}
