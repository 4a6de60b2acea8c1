// The package's version: package.json's, bundled into dist/ by ncc at build time (its one owner).
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
