/** Checks on a file named on the command line, so that a typo gets a plain message instead of an fs error code. */
import { stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors";

/** Resolves `given` against the working directory; throws a UserError unless it names an existing regular file. */
export async function resolveInputFile(given: string): Promise<string> {
  const absolute = path.resolve(given);
  let stats;
  try {
    stats = await stat(absolute);
  } catch (error: unknown) {
    const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
    if (code === "ENOENT" || code === "ENOTDIR") throw new UserError(`${given}: no such file.`, { action: "Check the path.", inner: error });
    if (code === "EACCES" || code === "EPERM") throw new UserError(`${given}: permission denied.`, { inner: error });
    throw error;
  }
  if (stats.isDirectory()) throw new UserError(`${given} is a directory, not a file.`, { action: "Give the path of a .gguf file." });
  if (!stats.isFile()) throw new UserError(`${given} is not a regular file.`, { action: "Give the path of a .gguf file." });
  return absolute;
}
