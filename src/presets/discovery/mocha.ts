// mocha lists through its own option loading (.mocharc.*, package.json `mocha`, MOCHA_OPTIONS and the
// args: spec, extension, ignore, recursive) and file collection, in a small script run by the user's
// node in the working directory, so that the user's mocha decides.
import { listByScript } from './run.js';

const SCRIPT = String.raw`'use strict';
// Written by shardless: the files mocha would run here, as JSON to $SHARDLESS_LIST.
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { writeFileSync } = require('node:fs');
const mochaRequire = createRequire(join(process.cwd(), 'package.json'));
try {
  mochaRequire.resolve('mocha/package.json');
} catch {
  console.error('the npm package mocha is not installed in ' + process.cwd() + ' or above');
  process.exit(1);
}
const cli = (name) => {
  try {
    return mochaRequire('mocha/lib/cli/' + name + '.cjs'); // mocha 12
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    return mochaRequire('mocha/lib/cli/' + name); // mocha 8 to 11
  }
};
const options = cli('options').loadOptions(process.argv.slice(2));
const list = (v) => (v === undefined || v === null || v === false ? [] : [].concat(v).map(String));
const spec = list(options._);
const found = cli('collect-files')({
  allowEmpty: true, ignore: list(options.ignore), extension: list(options.extension), file: [],
  recursive: Boolean(options.recursive), sort: false, spec: spec.length > 0 ? spec : ['./test'], // mocha's default spec
});
writeFileSync(process.env.SHARDLESS_LIST, JSON.stringify(Array.isArray(found) ? found : found.files));
`;

export function discoverMocha(cwd: string, args: string[]): Promise<string[]> {
  return listByScript('mocha', 'list-mocha.cjs', SCRIPT, cwd, args);
}
