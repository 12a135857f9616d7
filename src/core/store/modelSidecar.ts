/**
 * Sidecar metadata: SLM Lab records what it knows about a model it made or downloaded (source, sha256, parent model,
 * quantization, when made) next to it as `<file>.gguf.slm-lab.json`. The name does not end in `.gguf`, so discovery
 * never lists it as a model.
 */

export const SIDECAR_SUFFIX = ".slm-lab.json";

/** The sidecar path of a model file (of a split model: of its first part). */
export function sidecarPathFor(modelPath: string): string {
  return `${modelPath}${SIDECAR_SUFFIX}`;
}
