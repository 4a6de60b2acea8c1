// src/report: what a run's results look like to the outside. It owns the JSON report (json.ts), the
// action's outputs (outputs.ts), the reason the controller fails (exit.ts), the job summary: what it says
// (sections.ts) written as markdown (summary.ts, fitted under its size limit by fit.ts) and as terminal
// text (text.ts), and the summary of a run that was not coordinated (not-coordinated.ts); the merged
// JUnit (junit-merged.ts), the files written (write.ts) and the annotations (annotations.ts). format.ts
// and escape.ts are their shared formatting. All pure but write.ts and emitAnnotations. It imports
// nothing of the controller, the worker, the queue or the command line: they import it.
export { buildReport } from './json.js';
export { reportOutputs } from './outputs.js';
export { exitReason } from './exit.js';
export { renderSummary } from './summary.js';
export { renderJUnit } from './junit-merged.js';
export { writeReport } from './write.js';
export { annotations, emitAnnotations, type Annotation, type AnnotationOptions } from './annotations.js';
export { renderNotCoordinated, notCoordinatedText, type NotCoordinated } from './not-coordinated.js';
export { countsLine, summaryText, type RunSummary } from './text.js';
