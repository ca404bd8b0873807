// The SigV4 verifier against real signers: @smithy/signature-v4 (the AWS SDK v3 signer) and aws4, for GETs
// with repeated and empty query parameters, spaces, unicode, "+", "%2F" and reserved characters, POST bodies,
// presigned URLs and session tokens; and every failure with AWS's messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import aws4 from 'aws4';
import { sha256Hex, uriEncode, canonicalUri } from './canonical.ts';
import { checkScopeAndTime, createSigningKeyCache, parseSigV4, verifySignature, type SigV4Failure, type SigV4Request } from './verify.ts';

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const HOST = 'api.example.com';
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const EXPECT = { region: 'us-east-1', service: 'execute-api', nowMs: NOW };

const smithy = (secret = SECRET, region = 'us-east-1', service = 'execute-api', sessionToken?: string) =>
  new SignatureV4({ credentials: { accessKeyId: KEY, secretAccessKey: secret, ...(sessionToken ? { sessionToken } : {}) }, region, service, sha256: Sha256 });

/** What a client puts on the wire for a smithy HttpRequest: the query serialised with the same encoding. */
function wireQuery(query: Record<string, string | string[] | null>): string {
  const parts: string[] = [];
  for (const k of Object.keys(query)) {
    const v = query[k];
    for (const x of Array.isArray(v) ? v : [v ?? '']) parts.push(`${uriEncode(k)}=${uriEncode(x)}`);
  }
  return parts.join('&');
}

function fromSmithy(r: HttpRequest): SigV4Request {
  const rawHeaders: string[] = [];
  for (const [k, v] of Object.entries(r.headers)) rawHeaders.push(k, v);
  return { method: r.method, rawPath: r.path, rawQuery: wireQuery(r.query as Record<string, string | string[] | null>), rawHeaders };
}

function fromAws4(o: { method?: string; path: string; headers: Record<string, string | number> }): SigV4Request {
  const q = o.path.indexOf('?');
  const rawHeaders: string[] = [];
  for (const [k, v] of Object.entries(o.headers)) rawHeaders.push(k, String(v));
  return { method: o.method ?? 'GET', rawPath: q === -1 ? o.path : o.path.slice(0, q), rawQuery: q === -1 ? '' : o.path.slice(q + 1), rawHeaders };
}

function check(req: SigV4Request, body: string | Buffer = '', secret = SECRET, expect = EXPECT): SigV4Failure | undefined {
  const p = parseSigV4(req);
  if (!p.ok) return p;
  return checkScopeAndTime(p, expect) ?? verifySignature(p, secret, sha256Hex(body), createSigningKeyCache());
}

async function signSmithy(init: { method?: string; path: string; query?: Record<string, string | string[]>; headers?: Record<string, string>; body?: string | Uint8Array }, signer = smithy()) {
  const req = new HttpRequest({
    method: init.method ?? 'GET', protocol: 'https:', hostname: HOST, path: init.path, query: init.query ?? {},
    headers: { host: HOST, ...init.headers }, ...(init.body !== undefined ? { body: init.body } : {}),
  });
  return (await signer.sign(req, { signingDate: new Date(NOW) })) as HttpRequest;
}

const PATHS = ['/prod/pets', '/prod/', '/prod/a%20b/c', '/prod/caf%C3%A9/%E2%9C%93', '/prod/a+b', '/prod/x%2Fy', "/prod/r!'()*~-._", '/prod/s%3Ba%3Db%40c%24', '/prod//double'];

for (const path of PATHS) {
  test(`smithy GET ${path} with repeated and empty query parameters verifies`, async () => {
    const r = await signSmithy({ path, query: { b: ['2', '1'], a: '', 'sp ace': 'v+w x', uni: 'é✓', slash: 'a/b', star: '*' } });
    assert.equal(check(fromSmithy(r)), undefined);
  });
  test(`aws4 GET ${path} with query verifies`, () => {
    const o = aws4.sign({ host: HOST, path: `${path}?b=2&b=1&a=&q=x%20y&r=1+2`, service: 'execute-api', region: 'us-east-1', headers: { 'X-Amz-Date': '20260601T120000Z' } }, { accessKeyId: KEY, secretAccessKey: SECRET });
    assert.equal(check(fromAws4(o as never)), undefined);
  });
}

test('canonical URI: every segment encoded once more, dot segments and empty segments normalised', () => {
  assert.equal(canonicalUri('/prod/a%20b'), '/prod/a%2520b');
  assert.equal(canonicalUri('/prod/x%2Fy'), '/prod/x%252Fy');
  assert.equal(canonicalUri('/prod//a/./b/../c/'), '/prod/a/c/');
  assert.equal(canonicalUri(''), '/');
});

test('POST JSON and binary bodies: the body is part of the signature', async () => {
  const json = JSON.stringify({ name: 'rex', tags: ['a', 'b'] });
  const r = await signSmithy({ method: 'POST', path: '/prod/pets', headers: { 'content-type': 'application/json' }, body: json });
  assert.equal(check(fromSmithy(r), json), undefined);
  const bin = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
  const rb = await signSmithy({ method: 'PUT', path: '/prod/blob', headers: { 'content-type': 'application/octet-stream' }, body: bin });
  assert.equal(check(fromSmithy(rb), bin), undefined);
  const o = aws4.sign({ host: HOST, method: 'POST', path: '/prod/pets', body: json, service: 'execute-api', region: 'us-east-1', headers: { 'Content-Type': 'application/json', 'X-Amz-Date': '20260601T120000Z' } }, { accessKeyId: KEY, secretAccessKey: SECRET });
  assert.equal(check(fromAws4(o as never), json), undefined);
  const tampered = check(fromSmithy(r), json.replace('rex', 'rey'));
  assert.equal(tampered?.kind, 'INVALID_SIGNATURE');
  assert.match(tampered!.message, /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\.\n\nThe Canonical String for this request should have been\n'POST\n\/prod\/pets\n\n/);
  assert.match(tampered!.message, /\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20260601T120000Z\n20260601\/us-east-1\/execute-api\/aws4_request\n[0-9a-f]{64}'\n$/);
});

test('presigned URLs (smithy presign and aws4 signQuery) verify; the header form and query form cannot be mixed', async () => {
  const req = new HttpRequest({ method: 'GET', protocol: 'https:', hostname: HOST, path: '/prod/pets/a%20b', query: { x: '1' }, headers: { host: HOST } });
  const pre = (await smithy().presign(req, { signingDate: new Date(NOW), expiresIn: 600 })) as HttpRequest;
  assert.equal(check(fromSmithy(pre)), undefined);
  const late = { ...EXPECT, nowMs: NOW + 601_000 };
  assert.match(check(fromSmithy(pre), '', SECRET, late)!.message, /^Signature expired: 20260601T120000Z is now earlier than 20260601T120001Z \(20260601T121001Z - 600 sec\.\)$/);
  const o = aws4.sign({ host: HOST, path: '/prod/pets?x=1', service: 'execute-api', region: 'us-east-1', signQuery: true }, { accessKeyId: KEY, secretAccessKey: SECRET });
  // aws4 takes the current time: verify at its own X-Amz-Date.
  const at = /X-Amz-Date=(\d{8}T\d{6}Z)/.exec((o as { path: string }).path)![1]!;
  const ms = Date.UTC(+at.slice(0, 4), +at.slice(4, 6) - 1, +at.slice(6, 8), +at.slice(9, 11), +at.slice(11, 13), +at.slice(13, 15));
  assert.equal(check(fromAws4(o as never), '', SECRET, { ...EXPECT, nowMs: ms }), undefined);
  const both = fromSmithy(pre);
  const mixed = { ...both, rawHeaders: [...both.rawHeaders, 'Authorization', 'AWS4-HMAC-SHA256 Credential=x'] };
  assert.equal(check(mixed)?.kind, 'INCOMPLETE');
});

test('session tokens: signed (smithy) or sent unsigned are both read', async () => {
  const r = await signSmithy({ path: '/prod/pets' }, smithy(SECRET, 'us-east-1', 'execute-api', 'session-token-1'));
  const p = parseSigV4(fromSmithy(r));
  assert.ok(p.ok);
  assert.equal(p.securityToken, 'session-token-1');
  assert.ok(p.signedHeaders.includes('x-amz-security-token'));
  assert.equal(check(fromSmithy(r)), undefined);
  const plain = await signSmithy({ path: '/prod/pets' });
  const withToken = fromSmithy(plain);
  const unsigned = { ...withToken, rawHeaders: [...withToken.rawHeaders, 'X-Amz-Security-Token', 'tok'] };
  assert.equal(check(unsigned), undefined);
  const up = parseSigV4(unsigned);
  assert.ok(up.ok && up.securityToken === 'tok');
});

test('failures: wrong secret, tampered header and path, unsigned x-amz header, header values folded', async () => {
  const r = await signSmithy({ path: '/prod/pets', headers: { 'x-amz-meta': 'a   b', 'x-custom': 'v' } });
  assert.equal(check(fromSmithy(r)), undefined);
  assert.equal(check(fromSmithy(r), '', 'wrong-secret')?.kind, 'INVALID_SIGNATURE');
  const base = fromSmithy(r);
  const swap = (name: string, value: string) => {
    const h = [...base.rawHeaders];
    h[h.findIndex((x) => x.toLowerCase() === name) + 1] = value;
    return { ...base, rawHeaders: h };
  };
  assert.equal(check(swap('x-custom', 'other'))?.kind, 'INVALID_SIGNATURE');
  assert.equal(check(swap('x-amz-meta', '  a b ')), undefined, 'trimmed and folded values are equal');
  assert.equal(check({ ...base, rawPath: '/prod/pets2' })?.kind, 'INVALID_SIGNATURE');
  assert.equal(check({ ...base, rawQuery: 'x=1' })?.kind, 'INVALID_SIGNATURE');
  assert.equal(check({ ...base, method: 'DELETE' })?.kind, 'INVALID_SIGNATURE');
  const extra = check({ ...base, rawHeaders: [...base.rawHeaders, 'X-Amz-Extra', '1'] });
  assert.deepEqual([extra?.kind, extra?.message], ['INVALID_SIGNATURE', 'There were headers present in the request which were not signed: x-amz-extra']);
});

test('failures: expired and future dates with AWS\'s texts', async () => {
  const r = fromSmithy(await signSmithy({ path: '/prod/pets' }));
  const expired = check(r, '', SECRET, { ...EXPECT, nowMs: NOW + 5 * 60_000 + 1000 });
  assert.equal(expired?.message, 'Signature expired: 20260601T120000Z is now earlier than 20260601T120001Z (20260601T120501Z - 5 min.)');
  const future = check(r, '', SECRET, { ...EXPECT, nowMs: NOW - 5 * 60_000 - 1000 });
  assert.equal(future?.message, 'Signature not yet current: 20260601T120000Z is still later than 20260601T115959Z (20260601T115459Z + 5 min.)');
  assert.equal(check(r, '', SECRET, { ...EXPECT, nowMs: NOW + 5 * 60_000 }), undefined, 'exactly 5 minutes is accepted');
});

test('failures: wrong region, service, terminator and date in the scope', async () => {
  const region = check(fromSmithy(await signSmithy({ path: '/prod/pets' }, smithy(SECRET, 'eu-west-1'))));
  assert.equal(region?.message, "Credential should be scoped to a valid Region, not 'eu-west-1'. ");
  const service = check(fromSmithy(await signSmithy({ path: '/prod/pets' }, smithy(SECRET, 'us-east-1', 'lambda'))));
  assert.equal(service?.message, "Credential should be scoped to correct service: 'execute-api'. ");
  const r = fromSmithy(await signSmithy({ path: '/prod/pets' }));
  const edit = (from: RegExp, to: string) => ({ ...r, rawHeaders: r.rawHeaders.map((v, i) => (i % 2 === 1 && r.rawHeaders[i - 1] === 'authorization' ? v.replace(from, to) : v)) });
  assert.equal(check(edit(/aws4_request/, 'aws5_request'))?.message, "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ");
  assert.equal(check(edit(/\/20260601\//, '/20260602/'))?.message,
    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260602' != '20260601', from '20260601T120000Z'.");
  assert.equal(check(edit(/Credential=[^,]+/, 'Credential=AKID/20260601'))?.kind, 'INCOMPLETE');
});

test('malformed Authorization headers: IncompleteSignatureException texts; no signature at all: missing token', () => {
  const req = (auth?: string, extra: string[] = []): SigV4Request => ({ method: 'GET', rawPath: '/prod/x', rawQuery: '', rawHeaders: ['Host', HOST, ...(auth ? ['Authorization', auth] : []), ...extra] });
  assert.deepEqual(parseSigV4(req('Bearer xyz')), { ok: false, kind: 'INCOMPLETE', message: "'xyz' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer xyz'." });
  const r = parseSigV4(req('Basic a=b'));
  assert.equal(r.ok, false);
  assert.equal((r as SigV4Failure).message,
    "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Basic a=b");
  assert.deepEqual(parseSigV4(req()), { ok: false, kind: 'MISSING', message: 'Missing Authentication Token' });
  const noDate = parseSigV4(req('AWS4-HMAC-SHA256 Credential=AKID/20260601/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00'));
  assert.match((noDate as SigV4Failure).message, /^Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header\. Authorization=/);
  const withDate = parseSigV4(req('AWS4-HMAC-SHA256 Credential=AKID/20260601/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00', ['Date', 'Mon, 01 Jun 2026 12:00:00 GMT']));
  assert.ok(withDate.ok && withDate.amzDate === '20260601T120000Z', 'the Date header stands in for X-Amz-Date');
  const noHost = parseSigV4(req('AWS4-HMAC-SHA256 Credential=AKID/20260601/us-east-1/execute-api/aws4_request, SignedHeaders=x-amz-date, Signature=00', ['X-Amz-Date', '20260601T120000Z']));
  assert.ok(noHost.ok);
  assert.equal(checkScopeAndTime(noHost, EXPECT)?.message, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
});

test('the signing key is derived once per key, date, region and service', () => {
  const cache = createSigningKeyCache();
  const a = cache.get(KEY, SECRET, '20260601', 'us-east-1', 'execute-api');
  assert.equal(cache.get(KEY, SECRET, '20260601', 'us-east-1', 'execute-api'), a);
  assert.notEqual(cache.get(KEY, SECRET, '20260602', 'us-east-1', 'execute-api'), a);
  assert.notEqual(cache.get(KEY, 'other', '20260601', 'us-east-1', 'execute-api'), a);
});

test('the Date header stands in for X-Amz-Date: aws4 signing with Date only (doNotModifyHeaders) verifies; a changed Date does not', () => {
  const o = aws4.sign(
    { host: HOST, path: '/prod/pets?x=1', service: 'execute-api', region: 'us-east-1', doNotModifyHeaders: true, headers: { Date: 'Mon, 01 Jun 2026 12:00:00 GMT', Host: HOST } } as never,
    { accessKeyId: KEY, secretAccessKey: SECRET },
  ) as { path: string; headers: Record<string, string> };
  assert.match(o.headers.Authorization!, /SignedHeaders=date;host,/);
  assert.equal(check(fromAws4(o)), undefined);
  const moved = { ...o, headers: { ...o.headers, Date: 'Mon, 01 Jun 2026 12:00:01 GMT' } };
  assert.equal(check(fromAws4(moved))?.kind, 'INVALID_SIGNATURE');
});
