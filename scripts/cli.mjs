// What every CLI in scripts/ shares: the error a user can fix, and how a run ends.

/** An error the user can fix (a bad argument, no token, a refused call): its message is all they need to see. */
export class CliError extends Error {}

/** A CliError, or a command line that node's parseArgs refused. */
const isUsageError = (error) => error instanceof CliError || String(error?.code ?? "").startsWith("ERR_PARSE_ARGS");

/**
 * Runs `main(argv)` and exits with the code it answers (0 when it answers nothing). A usage error prints
 * `error: <message>` (with --json, a refused admin call prints its problem body as JSON instead); any
 * other error prints its stack. Either exits with `failureCode`.
 * @example runCli(main);                      // exits 1 on failure
 * @example runCli(main, { failureCode: 2 });  // scan.mjs: 1 means "keys found"
 */
export function runCli(main, { failureCode = 1 } = {}) {
  Promise.resolve()
    .then(() => main(process.argv.slice(2)))
    .then(
      (code) => process.exit(code ?? 0),
      (error) => {
        const usage = isUsageError(error);
        if (usage && error.body && process.argv.includes("--json")) console.error(JSON.stringify(error.body, null, 2));
        else console.error(`error: ${usage ? error.message : (error?.stack ?? error)}`);
        process.exit(failureCode);
      },
    );
}

/** `runCli(main)` when `moduleFile` is the script node was started with (a module that is also a library). */
export function runIfScript(moduleFile, main) {
  if (process.argv[1] === moduleFile) runCli(main);
}
