/**
 * Sidecar metadata: SLM Lab records what it knows about a model it made or downloaded (source, sha256, parent model,
 * quantization, when made) next to it as `<file>.gguf.slm-lab.json`. The name does not end in `.gguf`, so discovery
 * never lists it as a model.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

export const SIDECAR_SUFFIX = ".slm-lab.json";

/** The sidecar path of a model file (of a split model: of its first part). */
export function sidecarPathFor(modelPath: string): string {
  return `${modelPath}${SIDECAR_SUFFIX}`;
}

/** The parent a quantize sidecar names, or undefined (no sidecar, not a quantized one, unreadable). */
export async function readSidecarParent(modelPath: string): Promise<string | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(sidecarPathFor(modelPath), "utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const record = parsed as Record<string, unknown>;
    const parent = record["parent"];
    if (record["kind"] !== "quantized" || typeof parent !== "object" || parent === null) return undefined;
    const parentPath = (parent as Record<string, unknown>)["path"];
    return typeof parentPath === "string" && parentPath !== "" ? path.resolve(parentPath) : undefined;
  } catch {
    return undefined;
  }
}
