// The integration contract (phase 9, terminal): write the whole response to ctx.res, or report a Denial
// when something expected fails before any response byte was written.
import type { Denial } from '../../core/denial.ts';
import type { RequestContext } from '../pipeline/context.ts';

/**
 * Told once per request that the integration has finished: `undefined` once the response has been written
 * (or the client is gone, or the client socket had to be destroyed mid-response); a Denial only while
 * nothing has been sent yet, for the dispatcher to render. One function per dispatcher, so the contract
 * costs no allocation per request (a Promise, its resolving functions and a reaction cost about 1,500
 * instructions per proxied request here). Never throws.
 */
export type IntegrationDone = (ctx: RequestContext, denial: Denial | undefined) => void;

/**
 * Starts the integration for ctx and calls `done` exactly once, synchronously or later. Fills
 * ctx.integration; never sets ctx.status (the dispatcher reads res.statusCode). Throws only for bugs.
 */
export type IntegrationFn = (ctx: RequestContext, done: IntegrationDone) => void;
