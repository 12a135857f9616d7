/** `slm-lab info` as text: what a person wants to know about a GGUF model, one aligned row per fact. */
import { formatBytes, formatParameterCount } from "../../core/format/humanUnits";
import { llamaFileTypeByName, llamaFileTypeDescription } from "../../core/gguf/llamaFileTypes";
import { type GgufModelSummary } from "../../core/gguf/ggufTypes";
import { formatAlignedRows } from "./alignedRows";

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const UNKNOWN = "unknown";

function count(value: number | undefined, unit = ""): string {
  return value === undefined ? UNKNOWN : `${integer.format(value)}${unit}`;
}

/** "494M (494,032,768)"; just "640" when the short form is already exact. */
function describeParameterCount(parameters: number): string {
  const short = formatParameterCount(parameters);
  const exact = integer.format(parameters);
  return short === exact || short === String(parameters) ? exact : `${short} (${exact})`;
}

/** "Q4_K_M (Q4_K - Medium)": the short name with llama.cpp's description when it adds something. */
function describeFileType(fileType: string): string {
  const id = llamaFileTypeByName(fileType);
  const description = id === undefined ? undefined : llamaFileTypeDescription(id);
  return description === undefined || description === fileType ? fileType : `${fileType} (${description})`;
}

function describeTokenizer(summary: GgufModelSummary): string {
  if (summary.tokenizerModel === undefined) return summary.tokenizerPre === undefined ? UNKNOWN : `? (pre: ${summary.tokenizerPre})`;
  return summary.tokenizerPre === undefined ? summary.tokenizerModel : `${summary.tokenizerModel} (pre: ${summary.tokenizerPre})`;
}

/** The text block for one model: `title` on the first line, then the facts, indented. */
export function formatModelSummaryText(summary: GgufModelSummary, title: string): string {
  return (
    `${title}\n` +
    formatAlignedRows([
      ["Architecture", summary.architecture ?? UNKNOWN],
      ["Name", summary.name],
      ["Parameters", describeParameterCount(summary.parameterCount)],
      ["File type", describeFileType(summary.fileType)],
      ["Bits per weight", Number.isFinite(summary.bitsPerWeight) ? summary.bitsPerWeight.toFixed(2) : UNKNOWN],
      ["Tensors", count(summary.tensorCount)],
      ["Context length", count(summary.contextLength, " tokens")],
      ["Vocabulary", count(summary.vocabularySize, " tokens")],
      ["Tokenizer", describeTokenizer(summary)],
      ["Size on disk", `${formatBytes(summary.fileSize)} (${integer.format(summary.fileSize)} bytes)`],
      ["GGUF version", String(summary.ggufVersion)],
      // Hyper-parameters: only those the file declares.
      ["Layers", summary.blockCount === undefined ? undefined : count(summary.blockCount)],
      ["Embedding width", summary.embeddingLength === undefined ? undefined : count(summary.embeddingLength)],
      ["Feed-forward width", summary.feedForwardLength === undefined ? undefined : count(summary.feedForwardLength)],
      ["Attention heads", summary.headCount === undefined ? undefined : count(summary.headCount)],
      ["KV heads", summary.headCountKv === undefined ? undefined : count(summary.headCountKv)],
    ])
  );
}
