// Definition shapes for HTTPS (docs/https.md): custom domain names with certificates, security
// policies, base path mappings and mutual TLS; HSTS; trusted proxies; TLS towards upstreams.
import { z } from 'zod';

const HOST = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const BASE_PATH = /^[A-Za-z0-9._~$!&'()*+,;=:@-]+(\/[A-Za-z0-9._~$!&'()*+,;=:@-]+)*$/;

export const SECURITY_POLICIES = ['TLS_1_2', 'TLS_1_3'] as const;
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];

/** Client-certificate fields that can be forwarded to the upstream in a header. */
export const CLIENT_CERT_FIELDS = [
  'clientCertPem',
  'subjectDN',
  'issuerDN',
  'serialNumber',
  'validity.notBefore',
  'validity.notAfter',
  'subjectAlternativeNames',
  'principalArn',
] as const;

export const BasePathMappingSchema = z
  .strictObject({
    basePath: z
      .string()
      .regex(BASE_PATH, 'a base path is one or more path segments without leading or trailing "/"')
      .optional()
      .describe('First path segment(s) that select this mapping; absent: the root mapping "(none)".'),
    api: z.string().min(1).max(128).describe('Name of the API (apis[].name).'),
    stage: z.string().min(1).max(128).describe('Stage of that API. The stage name is not part of the request path.'),
  })
  .describe('An AWS base path mapping: https://{domain}/{basePath}/{route path} -> API stage.');

export const PrincipalMappingSchema = z
  .strictObject({
    subject: z.string().min(1).max(1024).optional().describe('Exact subject DN as in $context.identity.clientCert.subjectDN (CN=...,O=...).'),
    san: z.string().min(1).max(1024).optional().describe('An exact subject alternative name as Node prints it: "DNS:host", "URI:spiffe://...", "email:..."'),
    principalArn: z.string().min(1).max(2048).describe('The IAM-style principal the certificate holder acts as.'),
  })
  .refine((m) => (m.subject === undefined) !== (m.san === undefined), { message: 'give exactly one of subject or san' });

export const MtlsSchema = z
  .strictObject({
    truststore: z.string().min(1).describe('PEM bundle of the CA certificates trusted to issue client certificates (the whole chain).'),
    mode: z
      .enum(['required', 'optional'])
      .default('required')
      .describe('required: no valid client certificate, no handshake. optional: verified when presented; policies decide.'),
    crl: z.string().min(1).optional().describe('PEM CRL file checked on the handshake (beyond AWS, which does not check revocation).'),
    upstreamHeaders: z
      .record(z.string().regex(HEADER_NAME, 'not a valid header name'), z.enum(CLIENT_CERT_FIELDS))
      .default({})
      .describe('Header -> client-certificate field sent to the upstream. Client-supplied copies are always removed.'),
    principals: z
      .array(PrincipalMappingSchema)
      .max(10_000)
      .default([])
      .describe('For auth: mtls routes: certificate subject or SAN -> principal ARN (first match wins).'),
  })
  .describe('Mutual TLS for this domain.');

export const DomainSchema = z
  .strictObject({
    name: z.string().toLowerCase().regex(HOST, 'not a valid domain name').describe('Host name served (SNI and Host); "*.example.com" for a wildcard.'),
    certificate: z
      .strictObject({
        cert: z.string().min(1).describe('PEM file: the certificate followed by its intermediate chain.'),
        key: z.string().min(1).describe('PEM file: the private key.'),
      })
      .describe('Reloaded when the files change; an invalid new file is rejected and the old one keeps serving.'),
    securityPolicy: z
      .enum(SECURITY_POLICIES)
      .default('TLS_1_2')
      .describe("TLS_1_2: TLS 1.2 and 1.3 with AWS's TLS_1_2 cipher list. TLS_1_3: TLS 1.3 only."),
    basePathMappings: z.array(BasePathMappingSchema).max(200).default([]),
    mtls: MtlsSchema.optional(),
  })
  .describe('A custom domain name, as in AWS: a certificate selected by SNI and base path mappings to API stages.');

export const DomainsSchema = z.array(DomainSchema).max(1000).default([]).describe('Custom domain names served over HTTPS.');

export const HstsSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    maxAge: z.number().int().min(0).max(63_072_000).default(31_536_000).describe('Seconds (default one year).'),
    includeSubDomains: z.boolean().default(false),
    preload: z.boolean().default(false),
  })
  .default({ enabled: true, maxAge: 31_536_000, includeSubDomains: false, preload: false })
  .describe('Strict-Transport-Security on responses sent over HTTPS.');

export const TrustedProxiesSchema = z
  .array(z.string().min(2).max(64))
  .max(1000)
  .default([])
  .describe('CIDRs (or addresses) of proxies whose X-Forwarded-For and X-Forwarded-Proto are honoured.');

export const UpstreamTlsSchema = z
  .strictObject({
    ca: z.string().min(1).optional().describe('PEM bundle trusted for this upstream instead of the system CAs.'),
    cert: z.string().min(1).optional().describe('Client certificate PEM file (backend mTLS).'),
    key: z.string().min(1).optional().describe('Private key PEM file of that client certificate.'),
    servername: z.string().min(1).max(253).optional().describe('SNI and the name verified, when not the URL host.'),
    insecureSkipVerification: z
      .boolean()
      .default(false)
      .describe('Development only: do not verify the upstream certificate (logged as a warning at deploy).'),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), { message: 'cert and key go together' })
  .describe('TLS towards an https upstream.');

export type DomainDefinition = z.infer<typeof DomainSchema>;
export type MtlsDefinition = z.infer<typeof MtlsSchema>;
export type HstsSettings = z.infer<typeof HstsSchema>;
export type UpstreamTls = z.infer<typeof UpstreamTlsSchema>;
export type ClientCertField = (typeof CLIENT_CERT_FIELDS)[number];
