/** Typed GGUF metadata values, as gguf-py's `add_uint32` / `add_float32` / `add_string` write them. */
import { type GgufValue } from "../../gguf/ggufTypes";

export function u32(value: number): GgufValue {
  return { type: "u32", value };
}

/** A float32 value (GGUF stores f32; the number is rounded when written). */
export function f32(value: number): GgufValue {
  return { type: "f32", value };
}

export function str(value: string): GgufValue {
  return { type: "string", value };
}
