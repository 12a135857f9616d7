/** Entry of the `slm-lab` command (bundled to dist/cli.js, started by bin/slm-lab.cjs). */
import { type CliContext } from "./cliCommand";
import { runCli } from "./runCli";

const controller = new AbortController();
// The first Ctrl+C asks the running command to stop cleanly; a second one kills the process as usual.
process.once("SIGINT", () => {
  controller.abort();
});
// `slm-lab info … | head` closes the pipe early: that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

const context: CliContext = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: controller.signal,
  env: process.env,
  ownsProcess: true,
};

void runCli(process.argv.slice(2), context).then((exitCode) => {
  if (controller.signal.aborted) {
    // Cancelled: the command has cleaned up and said so, but native work that cannot be interrupted (llama.cpp's
    // quantize, run in this process) may still be running. End now rather than wait for it, by SIGINT as a shell
    // expects of Ctrl+C (status 130): the handler above was `once`, so SIGINT has its default action again.
    process.kill(process.pid, "SIGINT");
    return;
  }
  // Not process.exit(): let stdout drain when it is a pipe.
  process.exitCode = exitCode;
});
