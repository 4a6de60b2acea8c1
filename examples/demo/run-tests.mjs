#!/usr/bin/env node
// A tiny test runner for the demo: each test id is a file name saying what it does
// (`slow-<ms>.test`, `fail.test`), and the runner writes JUnit to --junit PATH.
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
let junit = '';
if (args[0] === '--junit') { junit = args[1]; args.splice(0, 2); }
const cases = [];
for (const id of args) {
  const t0 = Date.now();
  const ms = Number(/slow-(\d+)/.exec(id)?.[1] ?? 100);
  await new Promise((r) => setTimeout(r, ms));
  const failed = id.includes('fail');
  console.log(`${failed ? 'FAIL' : 'ok  '} ${id}`);
  cases.push(`<testcase classname="${id}" name="${id}" time="${(Date.now() - t0) / 1000}">${failed ? '<failure message="expected 1 to be 2"/>' : ''}</testcase>`);
}
if (junit) writeFileSync(junit, `<?xml version="1.0"?>\n<testsuites><testsuite name="demo">${cases.join('')}</testsuite></testsuites>\n`);
process.exit(args.some((a) => a.includes('fail')) ? 1 : 0);
