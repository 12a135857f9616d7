/**
 * Typed errors of the tokenizer export: tokenizer files that are missing or malformed, a tokenizer kind SLM Lab
 * cannot export, and a BPE pre-tokenizer that llama.cpp would not recognise.
 */
import { UserError } from "../../errors";

export type TokenizerExportErrorCode =
  /** No tokenizer.json in the checkpoint folder. */
  | "missing-tokenizer"
  /** tokenizer.json / tokenizer_config.json is not JSON or lacks a field the export needs. */
  | "invalid-tokenizer"
  /** A tokenizer model SLM Lab does not export (Unigram, WordPiece, a SentencePiece-only checkpoint, …). */
  | "unsupported-tokenizer"
  /** The BPE pre-tokenizer's check-text hash is not in llama.cpp's table. */
  | "unknown-pre-tokenizer"
  /** A token id of the tokenizer does not fit the model's vocabulary size. */
  | "vocabulary-mismatch";

/** Why a checkpoint's tokenizer could not be exported; `file` names the file at fault when there is one. */
export class TokenizerExportError extends UserError {
  readonly code: TokenizerExportErrorCode;
  readonly file: string | undefined;

  constructor(code: TokenizerExportErrorCode, message: string, options: { readonly action?: string; readonly cause?: string; readonly file?: string } = {}) {
    super(message, { ...(options.action === undefined ? {} : { action: options.action }), ...(options.cause === undefined ? {} : { cause: options.cause }) });
    this.name = "TokenizerExportError";
    this.code = code;
    this.file = options.file;
  }
}
