/**
 * Typed errors of the safetensors reader: a file that is not valid safetensors (`SafetensorsFormatError`), a valid
 * file in a dtype SLM Lab cannot convert (`UnsupportedSafetensorsDtypeError`), and a checkpoint folder whose files do
 * not fit together (`SafetensorsCheckpointError`).
 */
import path from "node:path";
import { UserError } from "../errors";

/** Why a file is not a readable safetensors file. */
export type SafetensorsFormatErrorCode =
  /** The file ends before the 8-byte header length, the header, or a tensor's data. */
  | "truncated"
  /** The header length is over the format's 100 MB limit. */
  | "header-too-large"
  /** The header is not UTF-8 JSON, or not a JSON object. */
  | "invalid-header"
  /** The same key twice in one JSON object (the spec forbids it; JSON.parse would silently keep the last). */
  | "duplicate-key"
  /** A tensor entry without a valid dtype/shape/data_offsets, or `__metadata__` not a string-to-string map. */
  | "invalid-entry"
  /** A dtype string the safetensors format does not define. */
  | "unknown-dtype"
  /** shape × dtype size differs from the byte range given by data_offsets. */
  | "size-mismatch"
  /** Two tensors' byte ranges overlap. */
  | "overlap"
  /** Bytes of the data buffer that no tensor covers (the spec requires full coverage). */
  | "gap";

const ACTIONS: Readonly<Record<SafetensorsFormatErrorCode, string>> = {
  truncated: "The file is incomplete, probably an interrupted download or copy; download it again.",
  "header-too-large": "The file is corrupt or not a safetensors file; download it again from a trusted source.",
  "invalid-header": "The file is corrupt or not a safetensors file; download it again.",
  "duplicate-key": "The file was written by a broken tool or tampered with; download it again from a trusted source.",
  "invalid-entry": "The file was written by a broken tool; download it again or re-save it with the safetensors library.",
  "unknown-dtype": "The file uses a tensor type this version of SLM Lab does not know; update SLM Lab.",
  "size-mismatch": "The file was written by a broken tool; download it again or re-save it with the safetensors library.",
  overlap: "The file was written by a broken tool or tampered with; download it again from a trusted source.",
  gap: "The file is corrupt (or has extra bytes appended); download it again.",
};

/** A safetensors file that cannot be read: names the file, the byte offset and what was expected there. */
export class SafetensorsFormatError extends UserError {
  readonly file: string;
  /** Absolute byte offset in the file where the problem was found. */
  readonly offset: number;
  /** What the reader expected at that offset, e.g. "data of tensor \"w\" to start here". */
  readonly expected: string;
  readonly code: SafetensorsFormatErrorCode;

  constructor(code: SafetensorsFormatErrorCode, file: string, offset: number, expected: string, problem?: string) {
    const what = code === "truncated" ? (problem === undefined ? "truncated" : `truncated (${problem})`) : (problem ?? "invalid data");
    super(`${path.basename(file)}: ${what} at byte ${offset}: expected ${expected}`, { action: ACTIONS[code] });
    this.name = "SafetensorsFormatError";
    this.file = file;
    this.offset = offset;
    this.expected = expected;
    this.code = code;
  }
}

/** A tensor in a dtype that the format allows but SLM Lab does not convert (e.g. I8, F8_E4M3). */
export class UnsupportedSafetensorsDtypeError extends UserError {
  readonly file: string;
  readonly tensor: string;
  readonly dtype: string;

  constructor(file: string, tensor: string, dtype: string, supported: readonly string[]) {
    super(`${path.basename(file)}: tensor "${tensor}" uses dtype ${dtype}; SLM Lab converts ${joinNames(supported)} checkpoints`, {
      cause: "Quantized or integer checkpoints (int8, FP8, GPTQ/AWQ, bitsandbytes) cannot be converted from their stored form",
      action: "Download the original F32, F16 or BF16 version of the model, or a ready-made GGUF",
    });
    this.name = "UnsupportedSafetensorsDtypeError";
    this.file = file;
    this.tensor = tensor;
    this.dtype = dtype;
  }
}

/** Why a checkpoint folder's safetensors files do not form one model. */
export type SafetensorsCheckpointErrorCode =
  /** Neither `model.safetensors.index.json` nor `model.safetensors` (nor `model-*-of-*.safetensors` parts). */
  | "no-weights"
  /** The index file is not valid JSON or has no usable `weight_map`. */
  | "invalid-index"
  /** A shard the index (or the part numbering) names is not in the folder. */
  | "missing-shard"
  /** The index says a tensor is in a shard whose header does not list it. */
  | "tensor-missing-from-shard"
  /** Two shards both hold a tensor of the same name. */
  | "duplicate-tensor"
  /** No tensor of that name in the checkpoint. */
  | "unknown-tensor";

/** A checkpoint folder whose files do not fit together; names the file at fault. */
export class SafetensorsCheckpointError extends UserError {
  readonly code: SafetensorsCheckpointErrorCode;
  /** The file (or folder) the problem is about. */
  readonly file: string;

  constructor(code: SafetensorsCheckpointErrorCode, file: string, message: string, action: string) {
    super(message, { action });
    this.name = "SafetensorsCheckpointError";
    this.code = code;
    this.file = file;
  }
}

function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1] ?? ""}`;
}
