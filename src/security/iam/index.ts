// The IAM policy language engine: parse and compile policies once, evaluate them per request, and combine
// identity and resource-policy decisions the way API Gateway does. Pure code: no I/O, no clock.
export { parsePolicy, RESOURCE_POLICY_MAX_CHARS } from './parse.ts';
export { evaluate, createConditionContext } from './evaluate.ts';
export {
  combineDecisions, checkResourcePolicyBeforeAuthorizer, iamDenialMessage,
  LAMBDA_EXPLICIT_DENY_MESSAGE, LAMBDA_IMPLICIT_DENY_MESSAGE,
  type AuthType, type CombineInput, type CombinedDecision,
} from './combine.ts';
export {
  buildInvocationArn, expandExecuteApiShorthand, isExecuteApiShorthand, isMethodArnTooLong, splitArn,
  MAX_METHOD_ARN_BYTES, type InvocationArnParts,
} from './arn.ts';
export type {
  ApiArnContext, CompiledPolicy, ConditionContext, ContextValue, Decision, EvaluationRequest, EvaluationResult,
  ParseOptions, ParseResult, PolicyKind, Principal, Problem, StatementRef,
} from './types.ts';
export { simulatePolicies, type SimulateInput, type SimulateResult, type SimulatedPrincipal, type StatementReport } from './simulate.ts';
