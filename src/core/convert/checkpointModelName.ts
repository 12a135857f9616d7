/**
 * The model name of a checkpoint folder, in a module of its own: the VS Code command needs it to name the output
 * before converting, and importing it from the conversion would load the converter and its tokenizer library
 * (@lenml/tokenizers) into the extension host at activation.
 */
import path from "node:path";

/** general.name: the repository name for a Hugging Face cache snapshot (models--org--name/snapshots/<rev>), else the folder name. */
export function modelName(checkpointDir: string): string {
  const parts = checkpointDir.split(path.sep);
  const snapshots = parts.lastIndexOf("snapshots");
  const repo = snapshots > 0 ? parts[snapshots - 1] : undefined;
  if (repo?.startsWith("models--") === true) return repo.split("--").slice(2).join("--") || repo;
  return path.basename(checkpointDir);
}
