/** Shared by the converter's tests: converts a fixture checkpoint with the real tokenizer export when it is implemented, else a placeholder. */
import path from "node:path";
import { convertCheckpointInProcess, type ConvertResult } from "../../src/core/convert/checkpointConversion";
import { type ConvertOutType } from "../../src/core/convert/outputType";
import { exportTokenizer } from "../../src/core/convert/tokenizer/tokenizerExport";
import { type GgufMetadata } from "../../src/core/gguf/ggufTypes";
import { ensureHfCheckpoint } from "../fixtures/hfCheckpoints";
import { hfCheckpointSpecs, type HfCheckpointName } from "../fixtures/hfCheckpointSpecs";
import { placeholderTokenizer } from "./convertPlaceholderTokenizer";

/** Tokens of a fixture's tokenizer as llama.cpp counts them: vocab_size (the export pads to it), but Gemma 3's tokenizer has 262144. */
export function fixtureTokenCount(name: HfCheckpointName): number {
  const spec = hfCheckpointSpecs[name];
  return spec.modelType === "gemma3_text" ? 262144 : spec.vocabSize;
}

const exported = new Map<string, Promise<GgufMetadata>>();

/** The real export (once per checkpoint), or the placeholder while the real one says it is not implemented. */
function tokenizerFor(name: HfCheckpointName, dir: string, architecture: string): Promise<GgufMetadata> {
  let promise = exported.get(dir);
  if (promise === undefined) {
    promise = exportTokenizer(dir, { architecture }).catch((error: unknown) => {
      if (error instanceof Error && error.message.includes('not implemented')) return placeholderTokenizer(fixtureTokenCount(name));
      throw error;
    });
    exported.set(dir, promise);
  }
  return promise;
}

/** Converts fixture `name` into `outDir` as `<name>-<type>.gguf`. */
export async function convertFixture(name: HfCheckpointName, outType: ConvertOutType, outDir: string): Promise<ConvertResult> {
  const dir = await ensureHfCheckpoint(name);
  return convertCheckpointInProcess({
    checkpointDir: dir,
    outFile: path.join(outDir, `${name}-${outType}.gguf`),
    outType,
    overwrite: true,
    exportTokenizer: (checkpointDir, options) => tokenizerFor(name, checkpointDir, options.architecture),
  });
}
