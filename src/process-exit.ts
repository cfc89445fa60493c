// How the long-running entries (engine, UI) end their process: an exit code once `run` resolves with one
// (-1 means it keeps running until a signal handler exits), and exit 1 with the stack on an unexpected error.
export function exitWhenDone(run: Promise<number>): void {
  run.then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(
        `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
