// The integration contract (phase 9, terminal): write the whole response to ctx.res, or return a Denial
// when something expected fails before any response byte was written.
import type { Denial } from '../../core/denial.ts';
import type { RequestContext } from '../pipeline/context.ts';

/**
 * Resolves undefined once the response has been written (or the client is gone, or the client socket
 * had to be destroyed mid-response); resolves a Denial only while nothing has been sent yet, for the
 * dispatcher to render. Fills ctx.integration; never sets ctx.status (the dispatcher reads res.statusCode).
 */
export type IntegrationFn = (ctx: RequestContext) => Promise<Denial | undefined>;
