// The error every layer throws for bad input: the action and the CLI print its message as one line naming
// the input or file, and exit 1 (2 on the command line).
export class InputError extends Error {}
