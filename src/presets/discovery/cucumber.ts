// cucumber-js lists the scenarios of its own configuration (profiles, paths, tags, names) through its
// API, loadConfiguration and loadSources, in a small script run by the user's node in the working
// directory: no formatter runs, so no report file is written. Feature files that fail to parse are
// listed too: their batch reports the error.
import { listByScript } from './run.js';

const SCRIPT = String.raw`// Written by shardless: the feature files of cucumber-js's plan here, as JSON to $SHARDLESS_LIST.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const api = await import(pathToFileURL(createRequire(join(process.cwd(), 'package.json')).resolve('@cucumber/cucumber/api')).href);
const { runConfiguration } = await api.loadConfiguration({ provided: process.argv.slice(2) });
const { plan, errors } = await api.loadSources(runConfiguration.sources);
writeFileSync(process.env.SHARDLESS_LIST, JSON.stringify([...plan, ...errors].map((p) => p.uri).filter(Boolean)));
`;

export function discoverCucumber(cwd: string, args: string[]): Promise<string[]> {
  return listByScript('cucumber-js', 'list-cucumber.mjs', SCRIPT, cwd, args);
}
