// The report's files: the JSON report and, when asked for, the merged JUnit.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { renderJUnit } from './junit-merged.js';
import type { Report } from '../types.js';

/** Writes the JSON report and, when `junitPath` is set, the merged JUnit. */
export async function writeReport(report: Report, reportPath: string, junitPath = ''): Promise<void> {
  await mkdir(dirname(reportPath), { recursive: true });
  await writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  if (junitPath) {
    await mkdir(dirname(junitPath), { recursive: true });
    await writeFile(junitPath, renderJUnit(report));
  }
}
