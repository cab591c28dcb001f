export {
  DEFAULT_FLOW_LOG_HEADER,
  DEFAULT_FORMAT_FIELDS,
  FLOW_LOG_FIELDS,
  type FlowLogField,
  type FlowLogFieldKind,
  flowLogField,
  TIME_GENERATED_FIELD,
} from './fields.js';
export {
  type FlowLogFormat,
  type FlowLogHeaderOutcome,
  type FlowLogLineOutcome,
  type FlowLogPlan,
  flowLogRowId,
  normaliseFlowLogLine,
  parseFlowLogHeader,
} from './parse.js';
