/**
 * A model family for Compare Quantizations: the F16/BF16 original and the variants quantized from it. A variant is
 * linked by its quantize sidecar (`<file>.slm-lab.json`, `parent.path`, written by quantizeModel.ts), or, without a
 * sidecar, by sitting next to the parent as `<stem>-<TYPE>.gguf` (the name Quantize Model gives its outputs).
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { readGgufSummary } from "../gguf/ggufModelSummary";
import type { GgufModelSummary } from "../gguf/ggufTypes";
import { readSidecarParent } from "../store/modelSidecar";

export interface QuantizationFamily {
  /** The parent's file name without `.gguf` and a trailing -F16/-BF16/-F32. */
  readonly name: string;
  /** The F16/BF16/F32 original, when there is one. */
  readonly parentPath: string | undefined;
  /** Every member (parent included) that could be read. */
  readonly members: readonly { readonly summary: GgufModelSummary; readonly isParent: boolean }[];
  /** Files that looked like members but could not be read, one line each. */
  readonly problems: readonly string[];
}

export interface FindFamilyOptions {
  /** More model files to consider (e.g. every model the store scan found); the parent's folder is always listed. */
  readonly candidates?: readonly string[];
  readonly signal?: AbortSignal;
}

const UNQUANTIZED = new Set(["F32", "F16", "BF16"]);


/** `model-F16.gguf` → `model` (as Quantize Model names its outputs `<stem>-<TYPE>.gguf`). */
export function familyStem(file: string): string {
  return path.basename(file).replace(/\.gguf$/i, "").replace(/[-_.](b?f16|f32)$/i, "");
}

/** Finds the family of `modelPath` (a parent or any of its variants) and reads each member's summary. */
export async function findQuantizationFamily(modelPath: string, options: FindFamilyOptions = {}): Promise<QuantizationFamily> {
  const start = path.resolve(modelPath);
  const root = (await readSidecarParent(start)) ?? start;
  const stem = familyStem(root);
  const folderFiles = await readdir(path.dirname(root)).then(
    (names) => names.filter((name) => name.toLowerCase().endsWith(".gguf")).map((name) => path.join(path.dirname(root), name)),
    () => [] as string[],
  );
  const candidates = [...new Set([root, start, ...folderFiles, ...(options.candidates ?? []).map((file) => path.resolve(file))])];
  const members: { summary: GgufModelSummary; isParent: boolean }[] = [];
  const problems: string[] = [];
  for (const file of candidates) {
    options.signal?.throwIfAborted();
    const sidecarParent = await readSidecarParent(file);
    const belongs =
      file === root ||
      file === start ||
      sidecarParent === root ||
      (sidecarParent === undefined && path.dirname(file) === path.dirname(root) && isNamedVariant(path.basename(file), stem));
    if (!belongs) continue;
    try {
      const summary = await readGgufSummary(file, options.signal === undefined ? {} : { signal: options.signal });
      members.push({ summary, isParent: file === root && UNQUANTIZED.has(summary.fileType.toUpperCase()) });
    } catch (error) {
      options.signal?.throwIfAborted();
      problems.push(`${path.basename(file)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const parent = members.find((member) => member.isParent);
  return { name: stem, parentPath: parent?.summary.path, members, problems };
}

/** `<stem>-Q4_K_M.gguf`, `<stem>.Q8_0.gguf`, `<stem>_IQ4_XS.gguf`: a type-like suffix after the family stem. */
function isNamedVariant(fileName: string, stem: string): boolean {
  const base = fileName.replace(/\.gguf$/i, "");
  if (!base.toLowerCase().startsWith(stem.toLowerCase()) || base.length <= stem.length) return false;
  const suffix = base.slice(stem.length);
  return /^[-_.]((I?Q\d[_A-Z0-9]*)|TQ\d_\d|MXFP4_MOE|B?F16|F32)$/i.test(suffix);
}
