/**
 * Typed getters over GGUF metadata. Each returns undefined when the key is absent or holds another type, so callers
 * never have to switch on value tags. Key names follow llama.cpp's `gguf-py/gguf/constants.py` (`Keys`).
 */
import type { GgufMetadataEntry, GgufValue, GgufValueType } from "./ggufTypes";

/** Metadata as read with or without `maxArrayValues` (a plain `GgufMetadata` fits). */
export type GgufMetadataView = ReadonlyMap<string, GgufMetadataEntry>;

/** The entry under `key`, whatever its type. */
export function metadataValue(meta: GgufMetadataView, key: string): GgufMetadataEntry | undefined {
  return meta.get(key);
}

/** A string value. */
export function metadataString(meta: GgufMetadataView, key: string): string | undefined {
  const entry = meta.get(key);
  return entry?.type === "string" ? entry.value : undefined;
}

/** Any integer or float value as a number; u64/i64 only when exactly representable (≤ 2^53). */
export function metadataNumber(meta: GgufMetadataView, key: string): number | undefined {
  const entry = meta.get(key);
  if (entry === undefined) return undefined;
  switch (entry.type) {
    case "u8":
    case "i8":
    case "u16":
    case "i16":
    case "u32":
    case "i32":
    case "f32":
    case "f64":
      return entry.value;
    case "u64":
    case "i64":
      return safeNumber(entry.value);
    default:
      return undefined;
  }
}

/** An integer value (any integer type, or a float holding an integer) as a number, when exactly representable. */
export function metadataInteger(meta: GgufMetadataView, key: string): number | undefined {
  const value = metadataNumber(meta, key);
  return value !== undefined && Number.isSafeInteger(value) ? value : undefined;
}

/** A u64/i64 value as a bigint (also accepts smaller integer types). */
export function metadataBigInt(meta: GgufMetadataView, key: string): bigint | undefined {
  const entry = meta.get(key);
  if (entry === undefined) return undefined;
  if (entry.type === "u64" || entry.type === "i64") return entry.value;
  const value = metadataInteger(meta, key);
  return value === undefined ? undefined : BigInt(value);
}

/** A bool value. */
export function metadataBoolean(meta: GgufMetadataView, key: string): boolean | undefined {
  const entry = meta.get(key);
  return entry?.type === "bool" ? entry.value : undefined;
}

/** An array of strings (undefined when the array was only summarized). */
export function metadataStringArray(meta: GgufMetadataView, key: string): readonly string[] | undefined {
  const entry = meta.get(key);
  return entry?.type === "array" && entry.itemType === "string" ? entry.values : undefined;
}

/** An array of any integer or float type as numbers; u64/i64 arrays only when every value is exactly representable. */
export function metadataNumberArray(meta: GgufMetadataView, key: string): readonly number[] | undefined {
  const entry = meta.get(key);
  if (entry?.type !== "array") return undefined;
  switch (entry.itemType) {
    case "u64":
    case "i64": {
      const values: number[] = [];
      for (const value of entry.values) {
        const number = safeNumber(value);
        if (number === undefined) return undefined;
        values.push(number);
      }
      return values;
    }
    case "string":
    case "bool":
    case "array":
      return undefined;
    default:
      return entry.values;
  }
}

/** The length of an array value, decoded or summarized. */
export function metadataArrayLength(meta: GgufMetadataView, key: string): number | undefined {
  const entry = meta.get(key);
  if (entry?.type === "array") return entry.values.length;
  if (entry?.type === "array-summary") return entry.length;
  return undefined;
}

/** The item type of an array value, decoded or summarized. */
export function metadataArrayItemType(meta: GgufMetadataView, key: string): GgufValueType | undefined {
  const entry = meta.get(key);
  return entry?.type === "array" || entry?.type === "array-summary" ? entry.itemType : undefined;
}

/** `general.architecture`, e.g. "llama", "qwen2". */
export function metadataArchitecture(meta: GgufMetadataView): string | undefined {
  return metadataString(meta, "general.architecture");
}

/** A number under the architecture's own prefix: `metadataArchitectureNumber(meta, "context_length")` reads `qwen2.context_length`. */
export function metadataArchitectureNumber(meta: GgufMetadataView, suffix: string): number | undefined {
  const architecture = metadataArchitecture(meta);
  return architecture === undefined ? undefined : metadataNumber(meta, `${architecture}.${suffix}`);
}

/**
 * A short readable rendering of a value for info views and the CLI: strings quoted, long strings and arrays cut
 * ("[151936 × string: "!", "\"", "#", …]"), bigints in full.
 */
export function formatGgufValue(entry: GgufMetadataEntry | GgufValue, options: { maxItems?: number; maxStringLength?: number } = {}): string {
  const maxItems = options.maxItems ?? 8;
  const maxStringLength = options.maxStringLength ?? 120;
  const quote = (text: string): string => JSON.stringify(text.length > maxStringLength ? `${text.slice(0, maxStringLength)}…` : text);
  switch (entry.type) {
    case "string":
      return quote(entry.value);
    case "array-summary":
      return `[${entry.length} × ${entry.itemType}]`;
    case "array": {
      const shown = (entry.values as readonly unknown[]).slice(0, maxItems).map((item) => {
        if (typeof item === "string") return quote(item);
        if (typeof item === "object" && item !== null) return formatGgufValue(item as GgufValue, options);
        return String(item);
      });
      const more = entry.values.length > maxItems ? ", …" : "";
      return `[${entry.values.length} × ${entry.itemType}: ${shown.join(", ")}${more}]`;
    }
    default:
      return String(entry.value);
  }
}

function safeNumber(value: bigint): number | undefined {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : undefined;
}
