// go test, through gotestsum: ids are import paths of the packages that have tests; gotestsum names its
// testsuites after them.
import { args } from '../command.js';
import type { Preset } from '../types.js';

export const goTest: Preset = {
  // runner-args go to go test (after gotestsum's --).
  command: (b) => `gotestsum --format=testname --junitfile={junit} -- ${args(b)}{tests}`,
  needs: {
    bin: () => ['go', 'gotestsum'],
    hints: { gotestsum: "it writes the JUnit XML: 'go install gotest.tools/gotestsum@latest', or Debian's gotestsum package" },
  },
};
