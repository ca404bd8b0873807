// AWS custom-domain security policies as OpenSSL settings (aws-api-gateway-semantics.md §9).
import type { SecurityPolicyName } from '../config/tls-schema.ts';

export interface SecurityPolicy {
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion: 'TLSv1.3';
  /** OpenSSL cipher string; TLS 1.3 suites are listed with their TLS_ names (Node accepts both in one list). */
  readonly ciphers: string;
}

const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** AWS's TLS_1_2 list for Regional endpoints, in AWS's order (no CBC-SHA1, no 3DES, no RC4). */
export const AWS_TLS_1_2_CIPHERS: readonly string[] = Object.freeze([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'AES128-GCM-SHA256',
  'AES128-SHA256',
  'AES256-GCM-SHA384',
  'AES256-SHA256',
]);

export const SECURITY_POLICY_SETTINGS: Readonly<Record<SecurityPolicyName, SecurityPolicy>> = Object.freeze({
  // AWS's Regional TLS_1_2 is TLS 1.2 only; edge endpoints add TLS 1.3, which we also offer (brief: 1.2 + 1.3).
  TLS_1_2: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: [...TLS13_SUITES, ...AWS_TLS_1_2_CIPHERS].join(':') },
  TLS_1_3: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: TLS13_SUITES.join(':') },
});
