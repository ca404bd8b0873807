// Tests for execute-api ARNs: invocation ARNs, the resource-policy shorthand and ARN splitting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInvocationArn, expandExecuteApiShorthand, isMethodArnTooLong, MAX_METHOD_ARN_BYTES, splitArn } from './index.ts';
import { accountOfArn } from './arn.ts';

const base = { region: 'us-east-1', accountId: '123456789012', apiId: 'abc123', stage: 'prod' };

test('invocation ARNs use the real request path; the root is .../GET/', () => {
  assert.equal(buildInvocationArn({ ...base, method: 'GET', path: '/pets/a1b2' }), 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/a1b2');
  assert.equal(buildInvocationArn({ ...base, method: 'get', path: '/' }), 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/');
  assert.equal(buildInvocationArn({ ...base, method: 'POST', path: 'pets' }), 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/pets');
  assert.equal(buildInvocationArn({ ...base, method: 'GET', path: '/x', partition: 'aws-cn' }), 'arn:aws-cn:execute-api:us-east-1:123456789012:abc123/prod/GET/x');
});

test('method ARNs longer than 1600 bytes are flagged (API Gateway answers 414)', () => {
  const arn = (n: number) => buildInvocationArn({ ...base, method: 'GET', path: `/${'a'.repeat(n)}` });
  const fits = MAX_METHOD_ARN_BYTES - arn(0).length;
  assert.equal(isMethodArnTooLong(arn(fits)), false);
  assert.equal(isMethodArnTooLong(arn(fits + 1)), true);
  assert.equal(isMethodArnTooLong(buildInvocationArn({ ...base, method: 'GET', path: `/${'é'.repeat(800)}` })), true); // bytes, not characters
});

test('the execute-api:/ shorthand expands to the API\'s ARN', () => {
  const api = { region: 'eu-west-1', accountId: '111122223333', apiId: 'xyz789' };
  assert.equal(expandExecuteApiShorthand('execute-api:/*', api), 'arn:aws:execute-api:eu-west-1:111122223333:xyz789/*');
  assert.equal(expandExecuteApiShorthand('execute-api:/prod/GET/pets/*', api), 'arn:aws:execute-api:eu-west-1:111122223333:xyz789/prod/GET/pets/*');
  assert.equal(expandExecuteApiShorthand('arn:aws:execute-api:*:*:*', api), 'arn:aws:execute-api:*:*:*');
});

test('splitArn keeps colons inside the resource field', () => {
  assert.deepEqual(splitArn('arn:aws:iam::123456789012:user/a:b'), ['arn', 'aws', 'iam', '', '123456789012', 'user/a:b']);
  assert.equal(splitArn('arn:aws:iam::123'), null);
  assert.equal(splitArn('urn:aws:iam::1:x'), null);
  assert.equal(accountOfArn('arn:aws:sts::123456789012:assumed-role/R/s'), '123456789012');
  assert.equal(accountOfArn('arn:aws:s3:::bucket'), undefined);
});
