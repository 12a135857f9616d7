/**
 * koffi, the FFI through which SLM Lab calls llama.cpp's libraries and the C library. Its typings are ESM-only while
 * this code is CommonJS, so its CommonJS build is loaded by hand, once, when a caller first needs it (never at
 * start-up: the extension host does not load native code to activate).
 */
import { createRequire } from "node:module";
import type KoffiDefault from "koffi" with { "resolution-mode": "import" };

export type Koffi = typeof KoffiDefault;

let koffi: Koffi | undefined;

/** The koffi module (loaded on the first call). */
export function loadKoffi(): Koffi {
  koffi ??= createRequire(__filename)("koffi") as Koffi;
  return koffi;
}
