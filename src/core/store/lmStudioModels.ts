/**
 * LM Studio's models folder, read-only: `~/.lmstudio/models/<publisher>/<repo>/<file>.gguf` (LM Studio 0.3+), and the
 * older `~/.cache/lm-studio/models` with the same layout. Vision projector files (`mmproj-*.gguf`) sit next to the
 * models they extend and are not models of their own.
 */

import os from "node:os";
import path from "node:path";
import { findGgufFiles, type DiscoveredGgufFile } from "./ggufFileDiscovery";

export interface LmStudioModelFile extends DiscoveredGgufFile {
  /** The models folder the file was found in. */
  readonly root: string;
  /** "publisher/repo" when the file follows LM Studio's layout. */
  readonly repoId: string | undefined;
}

export interface LmStudioScan {
  readonly files: readonly LmStudioModelFile[];
  readonly problems: readonly string[];
}

/** LM Studio's models folders, newest layout first: `~/.lmstudio/models`, `~/.cache/lm-studio/models`. */
export function lmStudioModelsDirectories(homeDirectory: string = os.homedir()): string[] {
  return [path.join(homeDirectory, ".lmstudio", "models"), path.join(homeDirectory, ".cache", "lm-studio", "models")];
}

/** The GGUF models in LM Studio's folders (missing folders give none). */
export async function findLmStudioModels(directories: readonly string[], signal?: AbortSignal): Promise<LmStudioScan> {
  const files: LmStudioModelFile[] = [];
  const problems: string[] = [];
  for (const root of directories) {
    const found = await findGgufFiles(root, { maxDepth: 3, ...(signal === undefined ? {} : { signal }) });
    problems.push(...found.problems);
    for (const file of found.files) {
      if (path.basename(file.relativePath).toLowerCase().startsWith("mmproj")) continue;
      const segments = file.relativePath.split("/");
      const repoId = segments.length === 3 ? `${segments[0] ?? ""}/${segments[1] ?? ""}` : undefined;
      files.push({ ...file, root, repoId });
    }
  }
  return { files, problems };
}
