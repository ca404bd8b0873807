// A small pets service used as the example upstream (`npm start`) and in tests: GET/POST /pets,
// GET /pets/{id}, and /files/* echoing the path. In-memory, no dependencies.
import http from 'node:http';

export interface DemoUpstream {
  readonly url: string;
  close(): Promise<void>;
}

export async function startDemoUpstream(port = 3000, host = '127.0.0.1'): Promise<DemoUpstream> {
  const pets = new Map<number, { id: number; name: string; type: string }>([
    [1, { id: 1, name: 'Rex', type: 'dog' }],
    [2, { id: 2, name: 'Tom', type: 'cat' }],
  ]);
  let nextId = 3;
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const m = /^\/pets\/(\d+)$/.exec(url.pathname);
    if (url.pathname === '/pets' && req.method === 'GET') return json(res, 200, [...pets.values()]);
    if (url.pathname === '/pets' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 65_536) chunks.push(c);
      });
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
          const pet = { id: nextId++, name: String(body.name ?? 'unnamed'), type: String(body.type ?? 'unknown') };
          pets.set(pet.id, pet);
          json(res, 201, pet);
        } catch {
          json(res, 400, { error: 'body must be JSON' });
        }
      });
      return;
    }
    if (m && req.method === 'GET') {
      const pet = pets.get(Number(m[1]));
      return pet ? json(res, 200, pet) : json(res, 404, { error: 'no such pet' });
    }
    if (url.pathname.startsWith('/files/')) return json(res, 200, { method: req.method, path: url.pathname, query: url.search });
    json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  return {
    url: `http://${host}:${actual}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
