/**
 * Typed errors of the HF → GGUF converter: a checkpoint folder whose config.json is missing or wrong, an
 * architecture SLM Lab does not convert, tensors that do not match the config, or no room for the output.
 */
import { UserError } from "../errors";

export type ConvertErrorCode =
  /** No config.json in the folder. */
  | "missing-config"
  /** config.json is not JSON, or a field is missing or has the wrong type or value. */
  | "invalid-config"
  /** `architectures[0]` is not one SLM Lab converts. */
  | "unsupported-architecture"
  /** A tensor the architecture needs is missing, has an unexpected shape, or cannot be mapped to a GGUF name. */
  | "tensor-mismatch"
  /** The tokenizer's vocabulary does not fit the embedding. */
  | "vocabulary-mismatch"
  /** Less free disk than the output needs. */
  | "not-enough-disk"
  /** The output path is unusable (the input folder itself, a folder, …). */
  | "invalid-output";

/** Why a checkpoint could not be converted; `file` names the file at fault when there is one. */
export class ConvertError extends UserError {
  readonly code: ConvertErrorCode;
  readonly file: string | undefined;

  constructor(code: ConvertErrorCode, message: string, options: { readonly action?: string; readonly cause?: string; readonly file?: string } = {}) {
    super(message, { ...(options.action === undefined ? {} : { action: options.action }), ...(options.cause === undefined ? {} : { cause: options.cause }) });
    this.name = "ConvertError";
    this.code = code;
    this.file = options.file;
  }
}
