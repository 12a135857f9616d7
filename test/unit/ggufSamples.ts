/**
 * Sample GGUF inputs shared by the GGUF tests, the fuzz test and bench/ggufFuzz.ts: metadata with every value type,
 * a few tensors, and a raw byte builder for files our writer refuses to write (the bad inputs).
 */
import { GgmlType, tensorByteLength } from "../../src/core/gguf/ggmlTypes";
import type { GgufValue } from "../../src/core/gguf/ggufTypes";
import type { GgufInMemoryWriteInput } from "../../src/core/gguf/ggufWriter";

/** Metadata with every value type, extremes, unicode, empty and nested arrays. */
export function richMetadata(): Map<string, GgufValue> {
  return new Map<string, GgufValue>([
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: "Sample ünïcødé 模型 🦙" }],
    ["general.file_type", { type: "u32", value: 7 }],
    ["sample.u8", { type: "u8", value: 255 }],
    ["sample.i8", { type: "i8", value: -128 }],
    ["sample.u16", { type: "u16", value: 65535 }],
    ["sample.i16", { type: "i16", value: -32768 }],
    ["sample.u32", { type: "u32", value: 4294967295 }],
    ["sample.i32", { type: "i32", value: -2147483648 }],
    ["sample.f32", { type: "f32", value: Math.fround(3.14159) }],
    ["sample.f64", { type: "f64", value: -1.2345678901234567e-300 }],
    ["sample.bool.true", { type: "bool", value: true }],
    ["sample.bool.false", { type: "bool", value: false }],
    ["sample.string.empty", { type: "string", value: "" }],
    ["sample.string.unicode", { type: "string", value: "a\u0000b \u00e9 \u4e2d\u6587 \u{1f600} e\u0301" }],
    ["sample.u64.max", { type: "u64", value: (1n << 64n) - 1n }],
    ["sample.i64.min", { type: "i64", value: -(1n << 63n) }],
    ["sample.i64.max", { type: "i64", value: (1n << 63n) - 1n }],
    ["llama.context_length", { type: "u32", value: 2048 }],
    ["llama.embedding_length", { type: "u32", value: 64 }],
    ["llama.block_count", { type: "u32", value: 1 }],
    ["llama.attention.head_count", { type: "u32", value: 4 }],
    ["llama.attention.head_count_kv", { type: "u32", value: 2 }],
    ["llama.feed_forward_length", { type: "u32", value: 128 }],
    ["array.u8", { type: "array", itemType: "u8", values: [0, 1, 255] }],
    ["array.i8", { type: "array", itemType: "i8", values: [-128, 0, 127] }],
    ["array.u16", { type: "array", itemType: "u16", values: [0, 65535] }],
    ["array.i16", { type: "array", itemType: "i16", values: [-32768, 32767] }],
    ["array.u32", { type: "array", itemType: "u32", values: [0, 4294967295] }],
    ["array.i32", { type: "array", itemType: "i32", values: [-2147483648, 2147483647] }],
    ["array.f32", { type: "array", itemType: "f32", values: [0, -0, Math.fround(1.5e-7), Infinity, -Infinity, NaN] }],
    ["array.f64", { type: "array", itemType: "f64", values: [Number.MAX_VALUE, Number.MIN_VALUE, -0] }],
    ["array.bool", { type: "array", itemType: "bool", values: [true, false, true] }],
    ["array.u64", { type: "array", itemType: "u64", values: [0n, (1n << 64n) - 1n, 1n << 53n] }],
    ["array.i64", { type: "array", itemType: "i64", values: [-(1n << 63n), (1n << 63n) - 1n] }],
    ["array.string", { type: "array", itemType: "string", values: ["", "Ġhello", "<0x0A>", "\u{1f999}", "x".repeat(300)] }],
    ["array.empty.string", { type: "array", itemType: "string", values: [] }],
    ["array.empty.i32", { type: "array", itemType: "i32", values: [] }],
    [
      "array.nested",
      {
        type: "array",
        itemType: "array",
        values: [
          { type: "array", itemType: "string", values: ["a", "β"] },
          { type: "array", itemType: "u64", values: [42n] },
          { type: "array", itemType: "array", values: [{ type: "array", itemType: "bool", values: [true] }, { type: "array", itemType: "f32", values: [] }] },
          { type: "array", itemType: "i16", values: [] },
        ],
      },
    ],
    ["array.empty.nested", { type: "array", itemType: "array", values: [] }],
    ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "string", value: "qwen2" }],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", values: Array.from({ length: 100 }, (_, i) => `tok${i}`) }],
  ]);
}

/** Deterministic bytes for tensor data. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** A small but complete input: rich metadata and tensors of several types and shapes. */
export function sampleInput(options: { readonly alignment?: number } = {}): GgufInMemoryWriteInput {
  const specs: [string, number[], number][] = [
    ["token_embd.weight", [64, 100], GgmlType.Q8_0],
    ["blk.0.attn_norm.weight", [64], GgmlType.F32],
    ["blk.0.attn_q.weight", [64, 64], GgmlType.F16],
    ["blk.0.ffn_down.weight", [256, 3], GgmlType.Q4_K],
    ["blk.0.ffn_up.weight", [64, 2, 3], GgmlType.BF16],
    ["blk.0.odd", [3, 1, 1, 2], GgmlType.I8],
    ["output_norm.weight", [64], GgmlType.F32],
  ];
  return {
    metadata: richMetadata(),
    tensors: specs.map(([name, dims, ggmlType], index) => ({ name, dims, ggmlType, data: patternBytes(tensorByteLength(dims, ggmlType), index + 1) })),
    ...(options.alignment === undefined ? {} : { alignment: options.alignment }),
  };
}

/** Little-endian byte builder for hand-made (often invalid) GGUF files; `offset` tells where the next field goes. */
export class RawGguf {
  private readonly parts: number[] = [];

  get offset(): number {
    return this.parts.length;
  }

  bytes(data: Iterable<number>): this {
    for (const byte of data) this.parts.push(byte);
    return this;
  }

  u8(value: number): this {
    return this.bytes([value & 0xff]);
  }

  u32(value: number): this {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32LE(value >>> 0);
    return this.bytes(buffer);
  }

  u64(value: number | bigint): this {
    const buffer = Buffer.alloc(8);
    buffer.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)));
    return this.bytes(buffer);
  }

  /** u64 length then UTF-8 bytes. */
  str(value: string): this {
    const encoded = Buffer.from(value, "utf8");
    return this.u64(encoded.length).bytes(encoded);
  }

  /** "GGUF", version, tensor count, key-value count. */
  header(tensorCount: number | bigint, kvCount: number | bigint, version = 3): this {
    return this.bytes(Buffer.from("GGUF", "latin1")).u32(version).u64(tensorCount).u64(kvCount);
  }

  /** A key with a u32 value. */
  kvU32(key: string, value: number): this {
    return this.str(key).u32(4).u32(value);
  }

  /** A tensor info. */
  tensor(name: string, dims: readonly (number | bigint)[], ggmlType: number, offset: number | bigint): this {
    this.str(name).u32(dims.length);
    for (const dim of dims) this.u64(dim);
    return this.u32(ggmlType).u64(offset);
  }

  /** Zero bytes up to the next multiple of `alignment`. */
  pad(alignment: number): this {
    while (this.parts.length % alignment !== 0) this.parts.push(0);
    return this;
  }

  zeros(count: number): this {
    for (let i = 0; i < count; i++) this.parts.push(0);
    return this;
  }

  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
