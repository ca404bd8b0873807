import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefinitionSchema } from '../../../config/schema.ts';
import { fakeContext } from '../../../observe/test-support.ts';
import type { VerifiedClientCert } from '../../../tls/client-cert.ts';
import type { RouteBuild } from '../../pipeline/stage.ts';
import { TLS_DOMAIN } from '../../transport.ts';
import type { IamDirectory } from '../../../iam/iam-directory.ts';
import type { IamAuthDeps } from '../iam-auth/stage.ts';
import { mtlsAuthStage, type MtlsIdentity } from './stage.ts';

const definition = DefinitionSchema.parse({
  apis: [{ name: 'pets', stages: { prod: {} }, routes: [{ method: 'GET', path: '/x', auth: 'mtls', integration: { type: 'mock' } }] }],
  domains: [
    {
      name: 'api.test',
      certificate: { cert: 'c.pem', key: 'k.pem' },
      mtls: {
        truststore: 't.pem',
        principals: [
          { subject: 'CN=alice,O=Pets', principalArn: 'arn:aws:iam::210987654321:user/alice' },
          { san: 'URI:spiffe://pets/batch', principalArn: 'arn:aws:iam::123456789012:role/batch' },
        ],
      },
    },
    { name: 'open.test', certificate: { cert: 'c.pem', key: 'k.pem' }, mtls: { truststore: 't.pem' } },
  ],
});

function build(auth: 'mtls' | 'none', deps: Partial<IamAuthDeps> = {}): RouteBuild<Partial<IamAuthDeps>> {
  const api = definition.apis[0];
  return { api, apiId: 'abcdefghij', stageName: 'prod', stage: api.stages.prod, route: { ...api.routes[0], auth }, definition, deps };
}

const cert = (subjectDN: string, sans: string[] = []): VerifiedClientCert => ({
  clientCertPem: '-----BEGIN CERTIFICATE-----\n...',
  subjectDN,
  issuerDN: 'CN=Test CA',
  serialNumber: '01:02',
  validity: { notBefore: 'Jan  1 00:00:00 2026 GMT', notAfter: 'Jan  1 00:00:00 2027 GMT' },
  subjectAlternativeNames: sans,
});

function run(domain: string, c: VerifiedClientCert | undefined, deps: Partial<IamAuthDeps> = {}) {
  const fn = mtlsAuthStage.create(build('mtls', deps))!;
  const ctx = fakeContext();
  if (c) ctx.identity.clientCert = c;
  ctx.extensions[TLS_DOMAIN] = domain;
  const denial = fn(ctx);
  return { denial, ctx, identity: ctx.extensions.identity as MtlsIdentity | undefined };
}

test('applies to auth: mtls routes only', () => {
  assert.equal(mtlsAuthStage.create(build('none')), null);
  assert.equal(typeof mtlsAuthStage.create(build('mtls')), 'function');
});

test('no verified certificate: 401', () => {
  const { denial } = run('api.test', undefined);
  assert.equal((denial as { type: string }).type, 'UNAUTHORIZED');
});

test('mapped by subject DN, then by SAN; the principal is the caller', () => {
  const bySubject = run('api.test', cert('CN=alice,O=Pets'));
  assert.equal(bySubject.denial, undefined);
  assert.equal(bySubject.identity?.principalArn, 'arn:aws:iam::210987654321:user/alice');
  assert.equal(bySubject.identity?.matchedBy, 'subject');
  assert.equal(bySubject.identity?.caller?.accountId, '210987654321');
  assert.equal(bySubject.ctx.identity.userArn, 'arn:aws:iam::210987654321:user/alice');

  const bySan = run('api.test', cert('CN=job-7', ['DNS:job.test', 'URI:spiffe://pets/batch']));
  assert.equal(bySan.identity?.principalArn, 'arn:aws:iam::123456789012:role/batch');
  assert.equal(bySan.identity?.matchedBy, 'san');
});

test('principals configured but none matches: 403; none configured: the certificate alone authenticates', () => {
  const { denial } = run('api.test', cert('CN=mallory'));
  assert.equal((denial as { type: string }).type, 'ACCESS_DENIED');
  const open = run('open.test', cert('CN=anyone'));
  assert.equal(open.denial, undefined);
  assert.equal(open.identity?.kind, 'mtls');
  assert.equal(open.identity?.principalArn, undefined);
  assert.equal(open.ctx.identity.user, 'CN=anyone');
});

test('a principal the IAM directory knows brings its identity policies; a role acts as a session named by the serial', () => {
  const policies = [{ id: 'read' }] as never;
  const directory = {
    principal: (arn: string) =>
      arn === 'arn:aws:iam::123456789012:role/batch'
        ? { record: { id: 'AROAEXAMPLE', type: 'role', accountId: '123456789012', name: 'batch', path: '/', tags: { Team: 'pets' }, policies: ['read'], createdAt: '', updatedAt: '' }, policies }
        : undefined,
  } as unknown as IamDirectory;
  const role = run('api.test', cert('CN=job-7', ['URI:spiffe://pets/batch']), { iam: { directory } });
  assert.equal(role.denial, undefined);
  assert.equal(role.identity?.known, true);
  assert.equal(role.identity?.policies, policies);
  assert.equal(role.identity?.caller?.arn, 'arn:aws:sts::123456789012:assumed-role/batch/0102');
  assert.equal(role.identity?.caller?.type, 'AssumedRole');
  assert.equal(role.identity?.caller?.tags?.get('team'), 'pets');
  assert.equal(role.ctx.identity.userArn, 'arn:aws:sts::123456789012:assumed-role/batch/0102');

  // Mapped, but no such principal: a caller without identity policies (only a resource policy can allow it).
  const unknown = run('api.test', cert('CN=alice,O=Pets'), { iam: { directory } });
  assert.equal(unknown.identity?.known, false);
  assert.deepEqual(unknown.identity?.policies, []);
  assert.equal(unknown.identity?.caller?.arn, 'arn:aws:iam::210987654321:user/alice');
});
