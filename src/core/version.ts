// The Portcullis version, from package.json; imported (not read at run time) so a bundled build has it.
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
