// Request identifiers: $context.requestId (a UUID, as AWS) and $context.extendedRequestId (AWS's short
// base64 form). The extended id is unique, not secret, so a counter under a random prefix suffices.
import { randomBytes, randomUUID } from 'node:crypto';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return value.length === 36 && UUID_RE.test(value);
}

export function newRequestId(): string {
  return randomUUID();
}

export function createExtendedIdGenerator(): () => string {
  const prefix = randomBytes(5);
  const buf = Buffer.alloc(11);
  prefix.copy(buf, 0);
  let counter = 0;
  return () => {
    counter = (counter + 1) % 0x1_0000_0000_0000;
    buf.writeUIntBE(counter, 5, 6);
    return buf.toString('base64');
  };
}
