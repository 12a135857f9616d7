/**
 * `llama_model_quantize` of the libllama that ships with node-llama-cpp, called through koffi (no compiler needed).
 * The struct below mirrors `struct llama_model_quantize_params` of the bundled llama.cpp's `include/llama.h`
 * (tag v0.5.0, commit de3ff815); the layout is checked against the library when it is loaded, so that a
 * node-llama-cpp upgrade that changes it fails with a clear error instead of corrupting memory.
 * Loaded by quantizeJob.ts: in the quantize child process (quantizeWorker.ts), or in the `slm-lab` CLI's own process.
 */
import type { LibraryHandle } from "koffi" with { "resolution-mode": "import" };
import { GGML_TYPE_COUNT } from "./quantizeWorkerProtocol";
import { LibllamaBindingError, locateLibllama, type LibllamaLocation } from "./libllamaLocation";
import { loadKoffi } from "../koffiModule";

const koffi = loadKoffi();


/** `llama_version()` of the llama.cpp the struct was mirrored from. */
const EXPECTED_LLAMA_VERSION = "0.5.0-dev";

/** Byte offsets of the fields in include/llama.h on x86-64 / arm64 (LP64), and the total size. */
const EXPECTED_LAYOUT = {
  nthread: 0,
  ftype: 4,
  output_tensor_type: 8,
  token_embedding_type: 12,
  allow_requantize: 16,
  quantize_output_tensor: 17,
  only_copy: 18,
  pure: 19,
  keep_split: 20,
  dry_run: 21,
  imatrix: 24,
  kv_overrides: 32,
  tt_overrides: 40,
  prune_layers: 48,
  max_buf_size: 56,
} as const;
const EXPECTED_SIZE = 64;

/** `struct llama_model_imatrix_data`: one tensor's importance values; the array ends with a null name. */
export interface ImatrixEntry {
  readonly name: string | null;
  readonly data: Float32Array | null;
  readonly size: number;
}

/** `struct llama_model_kv_override` with one union member set (by `tag`); the array ends with an empty key. */
export interface KvOverrideEntry {
  /** `enum llama_model_kv_override_type`: 0 INT, 1 FLOAT, 2 BOOL, 3 STR. */
  readonly tag: number;
  readonly key: string;
  readonly value: { readonly val_i64: number } | { readonly val_str: string } | { readonly val_i64: 0 };
}

/** `enum llama_model_kv_override_type` values. */
export const KV_OVERRIDE_INT = 0;
export const KV_OVERRIDE_STR = 3;

/** The fields of `llama_model_quantize_params` SLM Lab sets (tt_overrides and prune_layers stay null). */
export interface QuantizeParams {
  readonly nthread: number;
  readonly ftype: number;
  readonly output_tensor_type: number;
  readonly token_embedding_type: number;
  readonly allow_requantize: boolean;
  readonly quantize_output_tensor: boolean;
  readonly only_copy: boolean;
  readonly pure: boolean;
  readonly keep_split: boolean;
  readonly dry_run: boolean;
  readonly imatrix: readonly ImatrixEntry[] | null;
  readonly kv_overrides: readonly KvOverrideEntry[] | null;
  readonly tt_overrides: null;
  readonly prune_layers: null;
  readonly max_buf_size: number | bigint;
}

/** The loaded functions, with the layout checked. */
export interface LibllamaQuantize {
  readonly location: LibllamaLocation;
  /** `llama_version()`, e.g. "0.5.0-dev". */
  readonly llamaVersion: string;
  readonly defaultParams: QuantizeParams;
  /**
   * Runs `llama_model_quantize` on a koffi worker thread (so log callbacks reach JS while it runs); resolves to its
   * return code (0 = success). Log text arrives in pieces through `onLog` (level: `enum ggml_log_level`).
   */
  quantize(input: string, output: string, params: QuantizeParams, onLog: (level: number, text: string) => void): Promise<number>;
}

const ImatrixEntryType = koffi.struct("slm_llama_model_imatrix_data", {
  name: "const char *",
  data: "const float *",
  size: "size_t",
});

/** Checked against llama.h in checkParamsLayout: tag 0, key 4, union 136 (8-aligned), size 264. */
const KvOverrideValueType = koffi.union("slm_llama_model_kv_override_value", {
  val_i64: "int64_t",
  val_f64: "double",
  val_bool: "bool",
  val_str: koffi.array("char", 128, "String"),
});
const KvOverrideType = koffi.struct("slm_llama_model_kv_override", {
  tag: "int32_t",
  key: koffi.array("char", 128, "String"),
  value: KvOverrideValueType,
});
const KV_OVERRIDE_LAYOUT = { tag: 0, key: 4, value: 136, size: 264 } as const;

const PARAM_FIELDS = {
  nthread: "int32_t",
  ftype: "int32_t",
  output_tensor_type: "int32_t",
  token_embedding_type: "int32_t",
  allow_requantize: "bool",
  quantize_output_tensor: "bool",
  only_copy: "bool",
  pure: "bool",
  keep_split: "bool",
  dry_run: "bool",
  imatrix: koffi.pointer(ImatrixEntryType),
  kv_overrides: koffi.pointer(KvOverrideType),
  tt_overrides: "void *",
  prune_layers: "void *",
  max_buf_size: "size_t",
} as const;

const ParamsType = koffi.struct("slm_llama_model_quantize_params", PARAM_FIELDS);

/**
 * What `llama_model_quantize_default_params()` is received into: the params plus 192 spare bytes, so that a library
 * whose struct grew cannot write past the buffer before the check below has had a chance to fail.
 */
const ParamsProbeType = koffi.struct("slm_llama_model_quantize_params_probe", {
  ...PARAM_FIELDS,
  spare: koffi.array("uint8_t", 192),
});

const LogCallbackType = koffi.proto("void slm_ggml_log_callback(int level, const char *text, void *user_data)");

/** Checks koffi's layout of our mirror against include/llama.h: a mismatch means the mirror is wrong for this ABI. */
export function checkParamsLayout(): void {
  const size = koffi.sizeof(ParamsType);
  const wrong: string[] = (Object.keys(EXPECTED_LAYOUT) as (keyof typeof EXPECTED_LAYOUT)[]).filter(
    (field) => koffi.offsetof(ParamsType, field) !== EXPECTED_LAYOUT[field],
  );
  for (const field of ["tag", "key", "value"] as const) {
    if (koffi.offsetof(KvOverrideType, field) !== KV_OVERRIDE_LAYOUT[field]) wrong.push(`llama_model_kv_override.${field}`);
  }
  if (koffi.sizeof(KvOverrideType) !== KV_OVERRIDE_LAYOUT.size) wrong.push("sizeof(llama_model_kv_override)");
  if (size !== EXPECTED_SIZE || wrong.length > 0) {
    throw new LibllamaBindingError(
      `llama_model_quantize_params is laid out differently than in llama.h (size ${size}, expected ${EXPECTED_SIZE}${wrong.length > 0 ? `; fields at unexpected offsets: ${wrong.join(", ")}` : ""}).`,
      "Quantizing is disabled on this platform to avoid corrupting memory; please report it.",
    );
  }
}

/** Checks the defaults the library returns against those of the llama.cpp the struct was mirrored from. */
export function checkDefaultParams(defaults: Readonly<Record<string, unknown>>, llamaVersion: string): void {
  const expected: Readonly<Record<string, unknown>> = {
    nthread: 0,
    ftype: 7,
    output_tensor_type: GGML_TYPE_COUNT,
    token_embedding_type: GGML_TYPE_COUNT,
    allow_requantize: false,
    quantize_output_tensor: true,
    only_copy: false,
    pure: false,
    keep_split: false,
    dry_run: false,
    imatrix: null,
    kv_overrides: null,
    tt_overrides: null,
    prune_layers: null,
  };
  const mismatches = Object.keys(expected).filter((key) => defaults[key] !== expected[key]);
  const maxBuf = defaults["max_buf_size"];
  if (Number(maxBuf) !== 8 * 1024 ** 3) mismatches.push("max_buf_size");
  if (mismatches.length > 0 || llamaVersion !== EXPECTED_LLAMA_VERSION) {
    throw new LibllamaBindingError(
      `The bundled llama.cpp (${llamaVersion}) does not match the quantize parameters SLM Lab was built for (${EXPECTED_LLAMA_VERSION})` +
        (mismatches.length > 0 ? `: unexpected defaults for ${mismatches.join(", ")}.` : "."),
      "Quantizing is disabled to avoid corrupting memory; update SLM Lab (src/core/quantize/libllamaQuantizeBinding.ts mirrors include/llama.h).",
    );
  }
}

let loaded: LibllamaQuantize | undefined;

/**
 * Loads libllama once per process, initializes it as `llama_backend_init()` does minus the backend scan (see below),
 * and checks the struct layout and defaults.
 */
export function loadLibllamaQuantize(): LibllamaQuantize {
  if (loaded !== undefined) return loaded;
  checkParamsLayout();
  const location = locateLibllama();
  let lib: LibraryHandle;
  try {
    lib = koffi.load(location.libraryPath);
  } catch (error: unknown) {
    throw new LibllamaBindingError(`Cannot load ${location.libraryPath}: ${error instanceof Error ? error.message : String(error)}`, "Reinstall SLM Lab.", error);
  }
  const version = lib.func("const char *llama_version(void)");
  const llamaVersion = String(version());
  // The version is checked before the struct-returning call: with another llama.cpp, the probe still has room.
  const defaultsFunction = lib.func("llama_model_quantize_default_params", ParamsProbeType, []);
  // llama_backend_init() (src/llama.cpp) is ggml_time_init() (ggml_init's first call does no more) and, in a
  // GGML_BACKEND_DL build like node-llama-cpp's, ggml_backend_load_all(), which scans the executable's folder and
  // the current folder for libggml-<backend>*.so plugins and loads them. Quantizing needs no backend (llama-quant.cpp
  // uses ggml-base's ggml_quantize_chunk), the scan costs ~25 ms of every run, and loading libraries found in the
  // user's current folder is not wanted: only ggml_time_init() is called (dlsym through libllama's dependencies).
  const timeInit = lib.func("void ggml_time_init(void)");
  const logSet = lib.func("void llama_log_set(slm_ggml_log_callback *callback, void *user_data)");
  const quantizeFunction = lib.func("llama_model_quantize", "uint32_t", ["const char *", "const char *", koffi.pointer(ParamsType)]);

  timeInit();
  const probe = defaultsFunction() as Record<string, unknown>;
  checkDefaultParams(probe, llamaVersion);
  const { spare: _spare, ...defaults } = probe;
  const defaultParams = defaults as unknown as QuantizeParams;

  let logListener: ((level: number, text: string) => void) | undefined;
  // The log callback is global to the process: one call at a time, so that each call's lines go to its own listener
  // (in one process, a cancelled call may still be running when the next one is asked for).
  let previousCall: Promise<unknown> = Promise.resolve();
  // Registered once for the life of the process: llama.cpp keeps the pointer.
  const logCallback = koffi.register((level: number, text: string | null) => {
    if (text !== null) logListener?.(level, text);
  }, koffi.pointer(LogCallbackType));
  logSet(logCallback, null);

  loaded = {
    location,
    llamaVersion,
    defaultParams,
    quantize(input, output, params, onLog) {
      const imatrix = params.imatrix === null ? null : [...params.imatrix, { name: null, data: null, size: 0 }];
      const kvOverrides = params.kv_overrides === null ? null : [...params.kv_overrides, { tag: 0, key: "", value: { val_i64: 0 } }];
      const call = previousCall.then(
        () =>
          new Promise<number>((resolve, reject) => {
            logListener = onLog;
            quantizeFunction.async(input, output, { ...params, imatrix, kv_overrides: kvOverrides }, (error: unknown, result: unknown) => {
              logListener = undefined;
              if (error instanceof Error) reject(error);
              else if (error !== null && error !== undefined) reject(new Error(`llama_model_quantize failed: ${JSON.stringify(error)}`));
              else resolve(Number(result));
            });
          }),
      );
      previousCall = call.catch(() => undefined);
      return call;
    },
  };
  return loaded;
}
