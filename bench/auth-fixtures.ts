// Identity fixtures for the authentication scenarios of `npm run bench`, run as their own process (wrk runs
// synchronously in the bench process): an RS256 key served as a JWKS at /jwks, a signed token written to
// --token-file, and a custom authorizer at /authorize that allows the whole API (the gateway caches it).
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export const BENCH_ISSUER = 'https://issuer.bench';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1] ?? '');
const port = Number(args.get('port'));
const tokenFile = args.get('token-file')!;

const { publicKey, privateKey } = await generateKeyPair('RS256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ iss: BENCH_ISSUER, aud: 'bench', sub: 'user-1', scope: 'bench:read', iat: now, exp: now + 3600 })
  .setProtectedHeader({ alg: 'RS256', kid: 'bench-1' })
  .sign(privateKey);
writeFileSync(tokenFile, token);

const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:*/*/*/*' }] };
http
  .createServer((req, res) => {
    if (req.url === '/jwks') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ principalId: 'bench', policyDocument: policy, context: { tier: 'gold' } })));
  })
  .listen(port, '127.0.0.1');
