// Public types of the IAM policy engine: decisions, principals, the request's condition context and the
// compiled policy shape that parsePolicy produces and evaluate consumes.

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export type PolicyKind = 'identity' | 'resource';

/** An authenticated caller. Anonymous callers are represented by the absence of a principal. */
export interface Principal {
  /**
   * The caller's ARN: `arn:aws:iam::123456789012:user/alice`, `...:role/deploy`, `...:root`,
   * `arn:aws:sts::123456789012:assumed-role/deploy/session-1` or `arn:aws:sts::123456789012:federated-user/bob`.
   */
  readonly arn: string;
  /** 12-digit account id. Taken from the ARN when omitted. */
  readonly accountId?: string;
}

/** One condition key's value: a single string, or a list for multivalued keys (aws:TagKeys, aws:PrincipalOrgPaths...). */
export type ContextValue = string | readonly string[];

/**
 * The request's condition keys. Keys are looked up LOWER-CASED (condition keys are case-insensitive).
 * A Map filled up front, or a getter that computes values lazily (the gateway can add keys later without
 * touching the engine). `undefined` means the key is absent from the request context.
 */
export type ConditionContext =
  | ReadonlyMap<string, ContextValue>
  | ((lowerCaseKey: string) => ContextValue | undefined);

export interface EvaluationRequest {
  /** Absent for anonymous callers (unsigned requests, Lambda/Cognito-authorised requests). */
  readonly principal?: Principal;
  /** For example `execute-api:Invoke`. */
  readonly action: string;
  /** The full ARN, for example `arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/42`. */
  readonly resource: string;
  readonly context: ConditionContext;
}

export interface StatementRef {
  readonly policyId?: string;
  readonly sid?: string;
  /** Position of the statement in its policy (0-based; 0 for a policy whose Statement is a single object). */
  readonly index: number;
}

export interface EvaluationResult {
  readonly decision: Decision;
  /** The statement that decided: the first matching Deny, else the first matching Allow. */
  readonly statement?: StatementRef;
  /**
   * Set on an Allow from a resource policy when the only matching Allow named the caller's ACCOUNT
   * (`"123456789012"` or `arn:aws:iam::123456789012:root`) rather than the caller itself. In IAM that
   * delegates to the account's identity policies: in the same account it does not grant access alone.
   */
  readonly accountOnly?: true;
}

export interface Problem {
  /** JSON path of the offending element, for example `Statement[1].Condition.IpAddress["aws:SourceIp"][0]`. */
  readonly path: string;
  readonly message: string;
}

export type ParseResult =
  | { readonly ok: true; readonly policy: CompiledPolicy }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** Region, account and API id used to expand the `execute-api:/...` shorthand in resource policies. */
export interface ApiArnContext {
  readonly region: string;
  readonly accountId: string;
  readonly apiId: string;
  /** Defaults to `aws`. */
  readonly partition?: string;
}

export interface ParseOptions {
  readonly kind: PolicyKind;
  /**
   * Maximum size in characters of the compact JSON form (whitespace between tokens is not counted).
   * Resource policies default to 8192 (API Gateway's limit); identity policies have no default limit.
   */
  readonly maxChars?: number;
  /** Name reported in decisions; defaults to the document's `Id`. */
  readonly policyId?: string;
  /** Needed when a resource policy uses the `execute-api:/stage/METHOD/path` shorthand. */
  readonly api?: ApiArnContext;
}

/** Opaque to callers: build with parsePolicy, pass to evaluate. */
export interface CompiledPolicy {
  readonly kind: PolicyKind;
  readonly id?: string;
  readonly version: '2012-10-17' | '2008-10-17';
  readonly statementCount: number;
  /** @internal Deny statements, in document order. */
  readonly denies: readonly CompiledStatement[];
  /** @internal Allow statements, in document order. */
  readonly allows: readonly CompiledStatement[];
}

/** @internal Per-evaluation state shared by all statements (built once per evaluate call). */
export interface RequestState {
  readonly actionLower: string;
  readonly resource: string;
  /** The resource split into its six ARN fields (lazily; null when it is not an ARN). */
  fields: readonly string[] | null | undefined;
  readonly get: (lowerCaseKey: string) => ContextValue | undefined;
  readonly principal: ResolvedPrincipal | undefined;
}

/** @internal */
export interface ResolvedPrincipal {
  readonly arn: string;
  readonly accountId: string;
  /** For assumed-role sessions: `arn:<partition>:iam::<account>` and the lower-cased role name. */
  readonly sessionRole?: { readonly partitionAccount: string; readonly roleNameLower: string };
  /** For federated-user sessions: the IAM user ARN they stand for. */
  readonly federatedUserArn?: string;
}

/** @internal Principal match strength. 0 = no match, 1 = account-level, 2 = the caller itself. */
export type PrincipalMatch = 0 | 1 | 2;

/** @internal */
export interface CompiledStatement {
  readonly ref: StatementRef;
  readonly matchesAction: (actionLower: string) => boolean;
  /** Resource policies only: how strongly the (Not)Principal element matches; undefined for identity policies. */
  readonly matchPrincipal: ((p: ResolvedPrincipal | undefined) => PrincipalMatch) | undefined;
  readonly matchesResource: (st: RequestState) => boolean;
  readonly conditions: readonly ((st: RequestState) => boolean)[];
}
