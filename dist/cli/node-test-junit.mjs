// Written by shardless (runner presets): a node --test reporter whose JUnit XML names each test's file.
import { toJUnit } from './junit.cjs';

export default async function* shardlessJUnit(source) {
  const cases = [];
  for await (const { type, data } of source) {
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    const details = data.details || {};
    const error = details.error && (details.error.cause || details.error);
    // A suite is a case of its own only when it failed for itself (a hook), not through its tests.
    if (details.type === 'suite' && (type === 'test:pass' || (details.error && details.error.failureType === 'subtestsFailed'))) continue;
    const skipped = data.skip !== undefined || data.todo !== undefined;
    cases.push({
      file: data.file || '', name: data.name, seconds: (details.duration_ms || 0) / 1000,
      outcome: type === 'test:fail' && !skipped ? 'failed' : skipped ? 'skipped' : 'passed',
      message: error ? String((error && error.stack) || error.message || error) : '',
    });
  }
  yield toJUnit(cases);
}
