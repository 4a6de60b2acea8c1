// istanbul-reports' own report classes, imported one by one: its create() requires them by a computed
// path, which the bundle cannot follow.
declare module 'istanbul-reports/lib/*' {
  import type { ReportBase } from 'istanbul-lib-report';
  const Report: new (options?: object) => ReportBase;
  export default Report;
}
