import path from "node:path";
import { UserError } from "../errors";

/** Why a file is not a readable GGUF model. */
export type GgufFormatErrorCode =
  | "bad-magic"
  | "unsupported-version"
  | "truncated"
  | "limit-exceeded"
  | "tensor-data-out-of-bounds"
  | "unknown-ggml-type"
  | "invalid-value";

const ACTIONS: Readonly<Record<GgufFormatErrorCode, string>> = {
  "bad-magic": "This file is not a GGUF model; pick a .gguf file (convert other formats with Convert to GGUF).",
  "unsupported-version": "Re-download or re-convert the model with a current llama.cpp (GGUF v2 and v3 are supported).",
  truncated: "The file is incomplete, probably an interrupted download or copy; download it again.",
  "limit-exceeded": "The file is corrupt or not a model made by llama.cpp tools; download it again from a trusted source.",
  "tensor-data-out-of-bounds": "The file is incomplete or corrupt; download it again.",
  "unknown-ggml-type": "The model uses a tensor type this version of llama.cpp does not know; update SLM Lab or pick another quantization.",
  "invalid-value": "The file is corrupt or was written by a broken tool; download or convert it again.",
};

/** A GGUF file that cannot be read: names the file, the byte offset and what was expected there. */
export class GgufFormatError extends UserError {
  /** The file's path (or the name given to `parseGgufBytes`). */
  readonly file: string;
  /** Absolute byte offset in the file where the problem was found. */
  readonly offset: number;
  /** What the reader expected at that offset, e.g. "8-byte string length of metadata key #3". */
  readonly expected: string;
  readonly code: GgufFormatErrorCode;

  constructor(code: GgufFormatErrorCode, file: string, offset: number, expected: string, problem?: string) {
    // "truncated" leads the message whenever it is the diagnosis, with any detail after it.
    const what = code === "truncated" ? (problem === undefined ? "truncated" : `truncated (${problem})`) : (problem ?? "invalid data");
    super(`${path.basename(file)}: ${what} at byte ${offset}: expected ${expected}`, { action: ACTIONS[code] });
    this.name = "GgufFormatError";
    this.file = file;
    this.offset = offset;
    this.expected = expected;
    this.code = code;
  }
}
