// The release workflow's gate and notes: `node scripts/release-notes.mjs <tag>` fails unless the tag is
// `v` + package.json's version and CHANGELOG.md has a section for that version, and prints that section
// (the GitHub Release's notes).
import { readFileSync } from 'node:fs';

const tag = process.argv[2] ?? '';
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const fail = (message) => {
  console.error(`release-notes: ${message}`);
  process.exit(1);
};
if (tag !== `v${version}`) fail(`the tag '${tag}' does not match package.json's version ${version} (expected 'v${version}')`);

const lines = readFileSync(new URL('../CHANGELOG.md', import.meta.url), 'utf8').split(/\r?\n/);
// `## 1.0.0`, or `## 1.0.0 (2026-12-01)`: the version is the heading's first word.
const start = lines.findIndex((l) => /^## /.test(l) && l.split(/\s+/)[1] === version);
if (start < 0) fail(`CHANGELOG.md has no '## ${version}' section`);
const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
const notes = lines.slice(start + 1, end < 0 ? lines.length : end).join('\n').trim();
if (!notes) fail(`CHANGELOG.md's '## ${version}' section is empty`);
process.stdout.write(`${notes}\n`);
