/** `slm-lab info --json`: the GgufModelSummary with every key present (null when unknown), in a fixed order. */
import { type GgufModelSummary } from "../../core/gguf/ggufTypes";

/** Every field of GgufModelSummary, required, with `null` for "not in the file". */
export type ModelSummaryJson = { readonly [K in keyof GgufModelSummary]-?: Exclude<GgufModelSummary[K], undefined> | null };

/**
 * The JSON shape of a summary. Listing the keys here (the type makes a missing one a compile error) keeps the output
 * stable for scripts even when the summary object is built in another order.
 */
export function modelSummaryToJson(summary: GgufModelSummary): ModelSummaryJson {
  return {
    path: summary.path,
    architecture: summary.architecture ?? null,
    name: summary.name ?? null,
    parameterCount: summary.parameterCount,
    fileType: summary.fileType,
    bitsPerWeight: summary.bitsPerWeight,
    tensorCount: summary.tensorCount,
    contextLength: summary.contextLength ?? null,
    vocabularySize: summary.vocabularySize ?? null,
    tokenizerModel: summary.tokenizerModel ?? null,
    tokenizerPre: summary.tokenizerPre ?? null,
    embeddingLength: summary.embeddingLength ?? null,
    blockCount: summary.blockCount ?? null,
    headCount: summary.headCount ?? null,
    headCountKv: summary.headCountKv ?? null,
    feedForwardLength: summary.feedForwardLength ?? null,
    fileSize: summary.fileSize,
    ggufVersion: summary.ggufVersion,
  };
}
