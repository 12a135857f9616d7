/** Messages between quantizeModel (parent) and the quantize child process (quantizeWorker.ts), over Node's IPC. */
import { type LibllamaLocation } from "./libllamaLocation";

/** `enum ggml_type`'s GGML_TYPE_COUNT: "choose by ftype" for output_tensor_type / token_embedding_type. */
export const GGML_TYPE_COUNT = 43;

/** Parent → child: one `llama_model_quantize` call. */
export interface QuantizeJobMessage {
  readonly type: "quantize";
  readonly input: string;
  readonly output: string;
  readonly threads: number;
  readonly ftype: number;
  /** ggml type id, or GGML_TYPE_COUNT for "by ftype". */
  readonly outputTensorType: number;
  readonly tokenEmbeddingType: number;
  readonly allowRequantize: boolean;
  readonly pure: boolean;
  readonly dryRun: boolean;
  /** An importance matrix the child reads itself (it can be large), and the path as the user gave it (written into the output's metadata as llama-quantize does). */
  readonly imatrix?: { readonly file: string; readonly fileAsGiven: string };
}

/** Child → parent. */
export type QuantizeChildMessage =
  | { readonly type: "ready"; readonly location: LibllamaLocation; readonly llamaVersion: string }
  | { readonly type: "line"; readonly level: number; readonly line: string }
  | { readonly type: "done"; readonly returnCode: number }
  | { readonly type: "failed"; readonly message: string; readonly action: string | undefined };

/** Whether a value received over IPC is a child message (IPC data is untyped). */
export function isQuantizeChildMessage(value: unknown): value is QuantizeChildMessage {
  return typeof value === "object" && value !== null && "type" in value && typeof value.type === "string";
}

/** Whether a value received over IPC is a job. */
export function isQuantizeJobMessage(value: unknown): value is QuantizeJobMessage {
  return typeof value === "object" && value !== null && "type" in value && value.type === "quantize";
}
