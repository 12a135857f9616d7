/**
 * A checkpoint's `config.json`, read with typed, validating getters: a missing or mistyped field is a ConvertError
 * that names the field. Multimodal configs (Gemma3ForConditionalGeneration) carry the language model's fields in
 * `text_config`; as in convert_hf_to_gguf.py (`TextModel.__init__`) they are merged over the top level.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ConvertError } from "./convertErrors";

/** The parsed config with getters that fail clearly. */
export class HfConfig {
  readonly file: string;
  /** `architectures[0]`, e.g. "LlamaForCausalLM". */
  readonly architecture: string;
  private readonly fields: Readonly<Record<string, unknown>>;

  constructor(file: string, fields: Readonly<Record<string, unknown>>) {
    this.file = file;
    const textConfig = fields["text_config"];
    this.fields = isObject(textConfig) ? { ...fields, ...textConfig } : fields;
    const architectures = fields["architectures"];
    if (!Array.isArray(architectures) || architectures.length === 0 || typeof architectures[0] !== "string" || architectures[0] === "") {
      throw this.invalid("architectures", "must be a non-empty list of class names, e.g. [\"LlamaForCausalLM\"]");
    }
    this.architecture = architectures[0];
  }

  /** Whether the field is present and not null. */
  has(key: string): boolean {
    const value = this.fields[key];
    return value !== undefined && value !== null;
  }

  /** The raw value (undefined when absent or null). */
  raw(key: string): unknown {
    const value = this.fields[key];
    return value === null ? undefined : value;
  }

  /** A positive integer field (hidden_size, num_hidden_layers, …). */
  positiveInteger(key: string, fallback?: number): number {
    const value = this.optionalPositiveInteger(key) ?? fallback;
    if (value === undefined) throw this.invalid(key, "is missing");
    return value;
  }

  /** A positive integer field, or undefined when absent. */
  optionalPositiveInteger(key: string): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) throw this.invalid(key, `must be a positive whole number, not ${JSON.stringify(value)}`);
    return value;
  }

  /** A finite number field (rms_norm_eps, rope_theta, …). */
  number(key: string, fallback?: number): number {
    const value = this.optionalNumber(key) ?? fallback;
    if (value === undefined) throw this.invalid(key, "is missing");
    return value;
  }

  /** A finite number field, or undefined when absent. */
  optionalNumber(key: string): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) throw this.invalid(key, `must be a number, not ${JSON.stringify(value)}`);
    return value;
  }

  /** A boolean field. */
  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") throw this.invalid(key, `must be true or false, not ${JSON.stringify(value)}`);
    return value;
  }

  /** An object field (rope_scaling), or undefined when absent or null. */
  object(key: string): Readonly<Record<string, unknown>> | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (!isObject(value)) throw this.invalid(key, `must be an object, not ${JSON.stringify(value)}`);
    return value;
  }

  /** A ConvertError about one field. */
  invalid(key: string, problem: string): ConvertError {
    return new ConvertError("invalid-config", `${path.basename(this.file)}: "${key}" ${problem}`, {
      file: this.file,
      action: "Fix config.json or download the checkpoint again; it must be the config.json transformers writes for the model.",
    });
  }
}

/** A number inside a nested object of the config (e.g. rope_scaling.factor), validated like the top-level getters. */
export function nestedNumber(config: HfConfig, parent: string, fields: Readonly<Record<string, unknown>>, key: string, fallback?: number): number {
  const value = fields[key];
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw config.invalid(`${parent}.${key}`, "is missing");
  }
  if (typeof value !== "number" || !Number.isFinite(value)) throw config.invalid(`${parent}.${key}`, `must be a number, not ${JSON.stringify(value)}`);
  return value;
}

/** Reads and validates `<dir>/config.json`. */
export async function readHfConfig(dir: string): Promise<HfConfig> {
  const file = path.join(dir, "config.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new ConvertError("missing-config", `${path.basename(dir)} has no config.json`, {
        file,
        action: "Pick the folder of a Hugging Face transformers checkpoint (it holds config.json and *.safetensors).",
      });
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConvertError("invalid-config", `config.json is not valid JSON (${error instanceof Error ? error.message : String(error)})`, {
      file,
      action: "Download the checkpoint again; config.json is damaged.",
    });
  }
  if (!isObject(parsed)) throw new ConvertError("invalid-config", "config.json is not a JSON object", { file, action: "Download the checkpoint again; config.json is damaged." });
  return new HfConfig(file, parsed);
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
