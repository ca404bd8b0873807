// Benchmark: microseconds per SigV4 verification (parse, scope and time checks, canonical request, HMAC with
// the cached signing key) for a GET signed by the AWS SDK's signer. `node --import tsx bench/sigv4.ts`
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { checkScopeAndTime, createSigningKeyCache, parseSigV4, verifySignature, type SigV4Request } from '../src/security/sigv4/verify.ts';
import { EMPTY_SHA256 } from '../src/security/sigv4/canonical.ts';

const NOW = Date.UTC(2026, 5, 1, 12);
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const signer = new SignatureV4({ credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET }, region: 'us-east-1', service: 'execute-api', sha256: Sha256 });

async function request(path: string, query: Record<string, string>): Promise<SigV4Request> {
  const s = (await signer.sign(new HttpRequest({
    method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 8080, path, query,
    headers: { host: '127.0.0.1:8080', 'user-agent': 'wrk', accept: '*/*' },
  }), { signingDate: new Date(NOW) })) as HttpRequest;
  const rawHeaders: string[] = [];
  for (const [k, v] of Object.entries(s.headers)) rawHeaders.push(k, v);
  const rawQuery = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return { method: 'GET', rawPath: path, rawQuery, rawHeaders };
}

function measure(label: string, req: SigV4Request, cache: ReturnType<typeof createSigningKeyCache> | undefined): void {
  const run = () => {
    const p = parseSigV4(req);
    if (!p.ok) throw new Error(p.message);
    const early = checkScopeAndTime(p, { region: 'us-east-1', service: 'execute-api', nowMs: NOW });
    if (early) throw new Error(early.message);
    const bad = verifySignature(p, SECRET, EMPTY_SHA256, cache);
    if (bad) throw new Error(bad.message);
  };
  for (let i = 0; i < 20_000; i++) run();
  const n = 200_000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) run();
  console.log(`  ${label.padEnd(48)} ${(Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2)} µs/verification`);
}

console.log(`SigV4 verification, single core, Node ${process.version}`);
const simple = await request('/prod/bench', {});
measure('GET /prod/bench, signing key cached', simple, createSigningKeyCache());
measure('GET /prod/bench, key derived every time', simple, undefined);
measure('GET with 4 query parameters, cached', await request('/prod/pets/a b/caf\u00e9', { b: '2', a: '1', q: 'x y', empty: '' }), createSigningKeyCache());
