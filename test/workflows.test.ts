// The release gate (scripts/release-notes.mjs) and the workflows' token permissions: read-only
// everywhere, write only for the job that creates the release and moves the major tag.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

type Workflow = { permissions?: unknown; jobs: Record<string, { permissions?: unknown; steps?: { run?: string }[] }> };
const workflow = (name: string) => parse(readFileSync(join(WORKFLOWS, name), 'utf8')) as Workflow;

describe('scripts/release-notes.mjs', () => {
  const notes = (tag: string) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'release-notes.mjs'), tag], { encoding: 'utf8' });

  test("the tag of package.json's version: CHANGELOG.md's section for it, exit 0", () => {
    const r = notes(`v${version}`);
    expect(r.status, r.stderr).toBe(0);
    const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
    const section = changelog.split(/^## /m).find((s) => s.split(/\s+/)[0] === version)!;
    expect(r.stdout.trim()).toBe(section.slice(section.indexOf('\n') + 1).trim());
    expect(r.stdout).not.toContain('## ');
  });

  test('any other tag: an error naming both versions, exit 1', () => {
    for (const tag of ['v0.0.1', version, `v${version}-rc.1`, '']) {
      const r = notes(tag);
      expect(r.status, tag).toBe(1);
      expect(r.stderr, tag).toContain(`does not match package.json's version ${version}`);
    }
  });
});

describe('workflows', () => {
  test('every workflow gives its jobs a read-only token by default', () => {
    const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(workflow(f).permissions, f).toEqual({ contents: 'read' });
  });

  test('only the release job may write, and only contents; it runs after the whole CI', () => {
    for (const f of readdirSync(WORKFLOWS).filter((x) => /\.ya?ml$/.test(x))) {
      for (const [name, job] of Object.entries(workflow(f).jobs)) {
        if (f === 'release.yml' && name === 'release') expect(job.permissions).toEqual({ contents: 'write' });
        else expect(job.permissions, `${f} ${name}`).toBeUndefined();
      }
    }
    const release = workflow('release.yml');
    expect((release.jobs.release as { needs?: string }).needs).toBe('test');
    expect(release.jobs.test.steps!.map((s) => s.run ?? '')).toContain('bash .ci/run');
  });

  test('ci.yml runs .ci/run, the one list of checks', () => {
    expect(workflow('ci.yml').jobs.test.steps!.map((s) => s.run ?? '')).toContain('bash .ci/run');
  });
});
