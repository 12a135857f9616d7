/** What the store knows about one local model: where its file(s) are, and its summary or why it cannot be read. */

import type { GgufModelSummary } from "../gguf/ggufTypes";

/**
 * Where a model was found: SLM Lab's own models folder (SLM Lab may delete it), or another tool's store, listed
 * read-only: the Hugging Face cache, Ollama's models folder, LM Studio's models folder.
 */
export type ModelSource = "models-folder" | "huggingface-cache" | "lm-studio" | "ollama";

export interface StoredModelFile {
  /** The path as found (in the HF cache: the snapshot symlink). */
  readonly path: string;
  /** Symlinks resolved (in the HF cache: the blob). */
  readonly realPath: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** One model as a person sees it: a single GGUF file, or all parts of a split GGUF. */
export interface StoredModel {
  /** Stable across scans: source and the first part's path. */
  readonly id: string;
  readonly source: ModelSource;
  /** What the tree shows: the file name, `org/name/file.gguf` in the HF cache; longer only when needed to be unique. */
  readonly label: string;
  /** The first (or only) part's path: what Show Model Info reads and Reveal shows. */
  readonly path: string;
  /** All parts in order (one for a single-file model; only the parts present for an incomplete split). */
  readonly files: readonly StoredModelFile[];
  /** Parts the model should have: 1, or N of a `-0000i-of-0000N.gguf` split. */
  readonly partCount: number;
  /** Sum of the sizes of the parts present. */
  readonly sizeBytes: number;
  /** Relative to the models folder or to the HF snapshot folder, with `/` separators. */
  readonly relativePath: string;
  /** "org/name": the HF repo, or `<publisher>/<repo>` in the models folder or LM Studio's when the file follows that layout. */
  readonly repoId: string | undefined;
  /** HF cache only: the snapshot's commit. */
  readonly revision: string | undefined;
  /** Summary over all parts; undefined when the model cannot be read. */
  readonly summary: GgufModelSummary | undefined;
  /** One line saying why the model cannot be read (corrupt, truncated, missing parts, broken link). */
  readonly error: string | undefined;
}

/** The outcome of looking at every place models live. */
export interface ModelStoreScan {
  readonly modelsDirectory: { readonly path: string; readonly exists: boolean };
  /** Undefined when scanning the HF cache is turned off. */
  readonly huggingFaceCache: { readonly path: string; readonly exists: boolean } | undefined;
  /** Ollama's and LM Studio's folders that were looked at (none when scanning other tools' stores is off). */
  readonly otherStores?: readonly { readonly source: "lm-studio" | "ollama"; readonly path: string; readonly exists: boolean }[];
  /** Models folder first, then the HF cache, LM Studio, Ollama; each sorted by label. */
  readonly models: readonly StoredModel[];
  /** Folders that could not be read and similar; one line each. The models are still listed. */
  readonly problems: readonly string[];
}
