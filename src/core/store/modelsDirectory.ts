/** Where SLM Lab keeps its own models: the configured folder, or a default the caller chooses (the global storage). */

import os from "node:os";
import path from "node:path";
import { ModelsDirectoryError } from "./storeErrors";

/**
 * Resolves the models directory: `configured` when set (`~` expands to the home folder), else `defaultDirectory`.
 * A relative configured path is refused: relative to what would be a guess.
 */
export function resolveModelsDirectory(configured: string, defaultDirectory: string, homeDirectory: string = os.homedir()): string {
  const trimmed = configured.trim();
  if (trimmed === "") return path.resolve(defaultDirectory);
  let expanded = trimmed;
  if (trimmed === "~") expanded = homeDirectory;
  else if (trimmed.startsWith("~/") || trimmed.startsWith("~\\")) expanded = path.join(homeDirectory, trimmed.slice(2));
  if (!path.isAbsolute(expanded)) {
    throw new ModelsDirectoryError(`The models directory "${trimmed}" is not an absolute path.`, {
      action: "Set it to a full path (for example ~/models), or leave it empty to use SLM Lab's own storage.",
    });
  }
  return path.normalize(expanded);
}

/** True when `candidate` is `directory` itself or lies inside it (both already resolved, e.g. by realpath). */
export function isPathInside(candidate: string, directory: string): boolean {
  const relative = path.relative(directory, candidate);
  if (relative === "") return true;
  return relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
