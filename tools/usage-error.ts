/** A command line the `sb` CLI cannot run: it prints the message and the usage, and exits 64 (EX_USAGE). */
export class UsageError extends Error {}
