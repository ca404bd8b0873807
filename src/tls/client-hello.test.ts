import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { peekClientHello } from './client-hello.ts';

/** The first bytes a real Node TLS client sends. */
async function captureHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (peekClientHello(buf).kind !== 'incomplete') {
          resolve(buf);
          s.destroy();
        }
      });
    }),
  );
  const client = tls.connect({ host: '127.0.0.1', port, ...options });
  client.on('error', () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

test('reads the server name of a real ClientHello, also split into small pieces', async () => {
  const hello = await captureHello({ servername: 'API.Example.com' });
  assert.deepEqual(peekClientHello(hello), { kind: 'hello', servername: 'api.example.com' });
  for (const cut of [1, 5, 9, 40, hello.length - 1]) assert.equal(peekClientHello(hello.subarray(0, cut)).kind, 'incomplete');
});

test('a ClientHello without SNI has no server name', async () => {
  const hello = await captureHello({ servername: '' });
  assert.deepEqual(peekClientHello(hello), { kind: 'hello', servername: undefined });
});

test('plain HTTP and garbage are not TLS', () => {
  assert.equal(peekClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'not-tls');
  assert.equal(peekClientHello(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0])).kind, 'not-tls');
  assert.equal(peekClientHello(Buffer.from([22, 3, 1, 0, 5, 1, 0, 0, 1, 0])).kind, 'not-tls');
});
