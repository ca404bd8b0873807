// The IAM sub-port contract (policies, principals with attachments and tags, access keys, version), run
// against SQLite and the real PostgreSQL server alike.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { createPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { StoreConflictError, StoreNotFoundError, type Store } from '../../src/store/ports.ts';
import type { NewIamAccessKey, NewIamPrincipal } from '../../src/store/iam-port.ts';
import { TEST_PG_URL, createTestSchemas, requirePostgres } from './pg-test-env.ts';

const T0 = '2026-11-01T00:00:00.000Z';
const T1 = '2026-11-02T00:00:00.000Z';
const DOC = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}';
const principal = (id: string, over: Partial<NewIamPrincipal> = {}): NewIamPrincipal => ({
  id, type: id.startsWith('AIDA') ? 'user' : 'role', accountId: '123456789012', name: `n-${id.slice(-4).toLowerCase()}`, path: '/', tags: {}, policies: [], createdAt: T0, ...over,
});
const key = (id: string, principalId: string, over: Partial<NewIamAccessKey> = {}): NewIamAccessKey => ({
  id, principalId, secretCiphertext: 'v1.cipher', status: 'active', createdAt: T0, expiresAt: null, sessionTokenHash: null, ...over,
});
const U1 = 'AIDAAAAAAAAAAAAAAAA1';
const U2 = 'AIDAAAAAAAAAAAAAAAA2';
const R1 = 'AROAAAAAAAAAAAAAAAA1';

function contract(kind: string, open: (ns: string) => Promise<Store>): void {
  describe(`IAM store contract: ${kind}`, () => {
    let n = 0;
    const fresh = () => open(`iam${++n}`);

    test('policies: put creates then replaces, list by name, delete; every change bumps the version', async () => {
      const s = await fresh();
      try {
        const v0 = await s.iam.version();
        const a = await s.iam.putPolicy({ name: 'read', description: 'd', document: DOC }, T0);
        assert.equal(a.created, true);
        assert.deepEqual(a.record, { name: 'read', description: 'd', document: DOC, createdAt: T0, updatedAt: T0 });
        const b = await s.iam.putPolicy({ name: 'read', description: 'e', document: DOC }, T1);
        assert.equal(b.created, false);
        assert.deepEqual([b.record.createdAt, b.record.updatedAt, b.record.description], [T0, T1, 'e']);
        await s.iam.putPolicy({ name: 'admin', description: '', document: DOC }, T0);
        assert.deepEqual((await s.iam.listPolicies()).map((p) => p.name), ['admin', 'read']);
        assert.ok((await s.iam.version()) > v0);
        assert.equal(await s.iam.deletePolicy('admin'), true);
        assert.equal(await s.iam.deletePolicy('admin'), false);
        assert.equal(await s.iam.getPolicy('admin'), undefined);
        await assert.rejects(s.iam.putPolicy({ name: 'bad name', description: '', document: DOC }, T0), TypeError);
      } finally {
        await s.close();
      }
    });

    test('principals: create with tags and policies, unique per account/type/name, find, update, attached policies cannot be deleted', async () => {
      const s = await fresh();
      try {
        await s.iam.putPolicy({ name: 'p1', description: '', document: DOC }, T0);
        await s.iam.putPolicy({ name: 'p2', description: '', document: DOC }, T0);
        const u = await s.iam.createPrincipal(principal(U1, { name: 'alice', path: '/eng/', tags: { team: 'blue' }, policies: ['p2', 'p1'] }));
        assert.deepEqual(u, { id: U1, type: 'user', accountId: '123456789012', name: 'alice', path: '/eng/', tags: { team: 'blue' }, policies: ['p2', 'p1'], createdAt: T0, updatedAt: T0 });
        await assert.rejects(s.iam.createPrincipal(principal(U2, { name: 'alice' })), StoreConflictError);
        await assert.rejects(s.iam.createPrincipal(principal(U1, { name: 'other' })), StoreConflictError);
        await assert.rejects(s.iam.createPrincipal(principal(U2, { name: 'bob', policies: ['nope'] })), StoreNotFoundError);
        assert.equal(await s.iam.getPrincipal(U2), undefined, 'a failed create leaves nothing behind');
        await s.iam.createPrincipal(principal(R1, { name: 'alice' }));
        await s.iam.createPrincipal(principal(U2, { name: 'alice', accountId: '210987654321' }));
        assert.equal((await s.iam.findPrincipal('123456789012', 'role', 'alice'))?.id, R1);
        assert.deepEqual((await s.iam.listPrincipals()).map((p) => p.id), [R1, U1, U2]);
        assert.deepEqual((await s.iam.listPrincipals())[1]!.policies, ['p2', 'p1']);
        await assert.rejects(s.iam.deletePolicy('p1'), StoreConflictError);
        const up = await s.iam.updatePrincipal(U1, { tags: { team: 'red' }, policies: ['p1'] }, T1);
        assert.deepEqual([up.tags, up.policies, up.path, up.updatedAt], [{ team: 'red' }, ['p1'], '/eng/', T1]);
        await assert.rejects(s.iam.updatePrincipal(U1, { policies: ['zz'] }, T1), StoreNotFoundError);
        assert.deepEqual((await s.iam.getPrincipal(U1))?.policies, ['p1'], 'a failed update changes nothing');
        await assert.rejects(s.iam.updatePrincipal('AIDAZZZZZZZZZZZZZZZZ', { path: '/' }, T1), StoreNotFoundError);
        assert.equal(await s.iam.deletePolicy('p2'), true);
        await assert.rejects(s.iam.createPrincipal(principal('AIDAX', {})), TypeError);
        await assert.rejects(s.iam.createPrincipal(principal('AIDAAAAAAAAAAAAAAAA9', { tags: { 'aws:x': 'y' } })), TypeError);
      } finally {
        await s.close();
      }
    });

    test('access keys: create, list per principal, status, touch is monotonic and does not bump, cascade on principal delete', async () => {
      const s = await fresh();
      try {
        await s.iam.createPrincipal(principal(U1));
        await s.iam.createPrincipal(principal(U2));
        const k = await s.iam.createAccessKey(key('AKIAAAAAAAAAAAAAAAA1', U1));
        assert.deepEqual(k, { id: 'AKIAAAAAAAAAAAAAAAA1', principalId: U1, secretCiphertext: 'v1.cipher', status: 'active', createdAt: T0, lastUsedAt: null, expiresAt: null, sessionTokenHash: null });
        await s.iam.createAccessKey(key('ASIAAAAAAAAAAAAAAAA2', U2, { expiresAt: T1, sessionTokenHash: 'a'.repeat(64) }));
        await assert.rejects(s.iam.createAccessKey(key('AKIAAAAAAAAAAAAAAAA1', U1)), StoreConflictError);
        await assert.rejects(s.iam.createAccessKey(key('AKIAAAAAAAAAAAAAAAA3', 'AIDAZZZZZZZZZZZZZZZZ')), StoreNotFoundError);
        assert.deepEqual((await s.iam.listAccessKeys()).map((x) => x.id), ['AKIAAAAAAAAAAAAAAAA1', 'ASIAAAAAAAAAAAAAAAA2']);
        assert.deepEqual((await s.iam.listAccessKeys(U2)).map((x) => [x.id, x.expiresAt]), [['ASIAAAAAAAAAAAAAAAA2', T1]]);
        assert.equal((await s.iam.setAccessKeyStatus('AKIAAAAAAAAAAAAAAAA1', 'inactive')).status, 'inactive');
        await assert.rejects(s.iam.setAccessKeyStatus('AKIAZZZZZZZZZZZZZZZZ', 'active'), StoreNotFoundError);
        const v = await s.iam.version();
        await s.iam.touchAccessKey('AKIAAAAAAAAAAAAAAAA1', T1);
        await s.iam.touchAccessKey('AKIAAAAAAAAAAAAAAAA1', T0);
        assert.equal((await s.iam.getAccessKey('AKIAAAAAAAAAAAAAAAA1'))?.lastUsedAt, T1);
        assert.equal(await s.iam.version(), v);
        assert.equal(await s.iam.deletePrincipal(U2), true);
        assert.equal(await s.iam.getAccessKey('ASIAAAAAAAAAAAAAAAA2'), undefined);
        assert.equal(await s.iam.deleteAccessKey('AKIAAAAAAAAAAAAAAAA1'), true);
        assert.equal(await s.iam.deleteAccessKey('AKIAAAAAAAAAAAAAAAA1'), false);
      } finally {
        await s.close();
      }
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'pc-iam-'));
after(() => rmSync(root, { recursive: true, force: true }));
contract('sqlite', (ns) => createSqliteStore({ file: join(root, ns, 'store.db') }));

if (await requirePostgres('IAM store contract: postgres')) {
  const schemas = createTestSchemas();
  after(() => schemas.dropAll());
  contract('postgres', (ns) => createPostgresStore({ url: TEST_PG_URL, schema: schemas.name(ns), poolSize: 3 }));
}
