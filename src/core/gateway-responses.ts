// The catalogue of gateway response types: Amazon API Gateway's defaults (status, message,
// x-amzn-ErrorType), exactly as clients see them. docs/errors.md documents every entry (a test checks).
// Source: shared reference "aws-api-gateway-semantics" section 2.1.

export type ResponseType =
  | 'ACCESS_DENIED'
  | 'API_CONFIGURATION_ERROR'
  | 'AUTHORIZER_CONFIGURATION_ERROR'
  | 'AUTHORIZER_FAILURE'
  | 'BAD_REQUEST_PARAMETERS'
  | 'BAD_REQUEST_BODY'
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX'
  | 'EXPIRED_TOKEN'
  | 'INTEGRATION_FAILURE'
  | 'INTEGRATION_TIMEOUT'
  | 'INVALID_API_KEY'
  | 'INVALID_SIGNATURE'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'QUOTA_EXCEEDED'
  | 'REQUEST_TOO_LARGE'
  | 'RESOURCE_NOT_FOUND'
  | 'THROTTLED'
  | 'UNAUTHORIZED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'WAF_FILTERED'
  // Not customisable AWS types: answered before an API is known, or by the HTTP layer itself.
  | 'NO_API'
  | 'BAD_REQUEST'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE';

export interface ResponseTypeInfo {
  readonly type: ResponseType;
  /** Default status code; null for the DEFAULT_4XX / DEFAULT_5XX fallbacks. */
  readonly status: number | null;
  /** Default client-visible message; null renders as JSON null (AWS's AUTHORIZER_CONFIGURATION_ERROR). */
  readonly message: string | null;
  readonly errorType: string;
  /** Whether a per-API gateway response may override it (REQUEST_TOO_LARGE may not, as in AWS). */
  readonly customizable: boolean;
  readonly description: string;
}

const t = (
  type: ResponseType,
  status: number | null,
  message: string | null,
  errorType: string,
  description: string,
  customizable = true,
): ResponseTypeInfo => Object.freeze({ type, status, message, errorType, customizable, description });

export const RESPONSE_TYPES: Readonly<Record<ResponseType, ResponseTypeInfo>> = Object.freeze({
  ACCESS_DENIED: t('ACCESS_DENIED', 403, 'User is not authorized to access this resource', 'AccessDeniedException',
    'Authorization failed: a policy denied the call or no policy allowed it.'),
  API_CONFIGURATION_ERROR: t('API_CONFIGURATION_ERROR', 500, 'Internal server error', 'ApiConfigurationException',
    'The API definition cannot serve this request (for example an integration URL that resolves to nothing).'),
  AUTHORIZER_CONFIGURATION_ERROR: t('AUTHORIZER_CONFIGURATION_ERROR', 500, null, 'AuthorizerConfigurationException',
    'A custom authorizer could not be reached, timed out, or answered something malformed.'),
  AUTHORIZER_FAILURE: t('AUTHORIZER_FAILURE', 500, 'Internal server error', 'AuthorizerFailureException',
    'The authorizer failed for another reason (for example an identity provider with no usable keys).'),
  BAD_REQUEST_PARAMETERS: t('BAD_REQUEST_PARAMETERS', 400, 'Missing required request parameters', 'BadRequestException',
    'Request validation: a required parameter is missing or blank.'),
  BAD_REQUEST_BODY: t('BAD_REQUEST_BODY', 400, 'Invalid request body', 'BadRequestException',
    'Request validation: the body does not match the model for its content type.'),
  DEFAULT_4XX: t('DEFAULT_4XX', null, null, '', 'Fallback applied to every 4xx type that has no response of its own.'),
  DEFAULT_5XX: t('DEFAULT_5XX', null, null, '', 'Fallback applied to every 5xx type that has no response of its own.'),
  EXPIRED_TOKEN: t('EXPIRED_TOKEN', 403, 'The security token included in the request is expired', 'ExpiredTokenException',
    'The temporary credentials or token have expired.'),
  INTEGRATION_FAILURE: t('INTEGRATION_FAILURE', 504, 'Network error communicating with endpoint', 'InternalServerErrorException',
    'The upstream could not be reached or broke the connection.'),
  INTEGRATION_TIMEOUT: t('INTEGRATION_TIMEOUT', 504, 'Endpoint request timed out', 'InternalServerErrorException',
    'The upstream did not answer within the integration timeout (29 s by default).'),
  INVALID_API_KEY: t('INVALID_API_KEY', 403, 'Forbidden', 'ForbiddenException',
    'The route requires an API key and the key is missing, unknown, disabled, expired or not in a plan for this stage.'),
  INVALID_SIGNATURE: t('INVALID_SIGNATURE', 403,
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    'InvalidSignatureException', 'The Signature Version 4 signature does not match, or the signature has expired.'),
  MISSING_AUTHENTICATION_TOKEN: t('MISSING_AUTHENTICATION_TOKEN', 403, 'Missing Authentication Token', 'MissingAuthenticationTokenException',
    'No route matches the method and path (deliberately not a 404, as in AWS), or an IAM route got no signature.'),
  QUOTA_EXCEEDED: t('QUOTA_EXCEEDED', 429, 'Limit Exceeded', 'LimitExceededException',
    'The API key used up its usage-plan quota for the current period.'),
  REQUEST_TOO_LARGE: t('REQUEST_TOO_LARGE', 413, 'Request Too Long', 'RequestTooLongException',
    'The body is larger than the request-size limit (10 MB by default), or the headers exceed 10,240 bytes.', false),
  RESOURCE_NOT_FOUND: t('RESOURCE_NOT_FOUND', 404, 'Not Found', 'NotFoundException',
    'The resource was not found after authentication and authorization passed.'),
  THROTTLED: t('THROTTLED', 429, 'Too Many Requests', 'TooManyRequestsException',
    'A throttle (usage plan, stage, route or account token bucket) is empty.'),
  UNAUTHORIZED: t('UNAUTHORIZED', 401, 'Unauthorized', 'UnauthorizedException',
    'A token-based authorizer rejected the request or its identity source was missing.'),
  UNSUPPORTED_MEDIA_TYPE: t('UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported Media Type', 'BadRequestException',
    'The request content type is not accepted by the integration.'),
  WAF_FILTERED: t('WAF_FILTERED', 403, 'Forbidden', 'WafFilteredException',
    'A firewall rule (such as an automatic block of an abusive source address) refused the request.'),
  NO_API: t('NO_API', 403, 'Forbidden', 'ForbiddenException',
    'No API or stage is deployed at this host and base path (as AWS answers an unknown stage).', false),
  BAD_REQUEST: t('BAD_REQUEST', 400, 'Bad Request', 'BadRequestException',
    'The request is malformed HTTP: invalid percent-encoding, a bare CR, conflicting Content-Length and Transfer-Encoding, a path escaping the root.', false),
  URI_TOO_LONG: t('URI_TOO_LONG', 414, 'Request URI too long', 'UriTooLongException',
    'The request target is longer than 10,240 bytes.', false),
  HEADERS_TOO_LARGE: t('HEADERS_TOO_LARGE', 431, 'Request Header Fields Too Large', 'RequestHeaderFieldsTooLargeException',
    'The request head exceeds what the HTTP parser accepts (answered before the request is read).', false),
});

export const ALL_RESPONSE_TYPES = Object.keys(RESPONSE_TYPES) as ResponseType[];

/** Types a definition may customise under gatewayResponses. */
export const CUSTOMIZABLE_RESPONSE_TYPES = ALL_RESPONSE_TYPES.filter((k) => RESPONSE_TYPES[k].customizable);
