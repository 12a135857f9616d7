/**
 * The inference half of libllama's C API (model, context, batch, decode, logits, tokenize, threadpool) from the
 * libllama that ships with node-llama-cpp, called through koffi: the same calls llama-bench and llama-perplexity make
 * (tools/llama-bench/llama-bench.cpp, tools/perplexity/perplexity.cpp), so the bench measures llama.cpp and not a
 * wrapper around it. The structs mirror include/llama.h and ggml/include/ggml.h of the bundled commit (tag v0.5.0);
 * their layout and the library's defaults are checked when it is loaded, so a node-llama-cpp upgrade that changes
 * them fails with a clear error instead of corrupting memory. Only loaded in the bench child process (benchWorker.ts).
 */
import type { LibraryHandle } from "koffi" with { "resolution-mode": "import" };
import { LibllamaBindingError, locateLibllama, type LibllamaLocation } from "../quantize/libllamaLocation";
import { loadKoffi, type Koffi } from "../koffiModule";

const koffi = loadKoffi();

/** An opaque native pointer (llama_model *, llama_context *, …) as koffi hands it over. */
export type NativePointer = object;

/** `llama_version()` of the llama.cpp the structs were mirrored from. */
const EXPECTED_LLAMA_VERSION = "0.5.0-dev";
/** `GGML_MAX_N_THREADS` (ggml/include/ggml.h). */
const GGML_MAX_N_THREADS = 512;
/** `GGML_BACKEND_DEVICE_TYPE_CPU`. */
const GGML_BACKEND_DEVICE_TYPE_CPU = 0;

const MODEL_PARAM_FIELDS = {
  devices: "void *",
  tensor_buft_overrides: "void *",
  n_gpu_layers: "int32_t",
  split_mode: "int32_t",
  load_mode: "int32_t",
  lazy_mode: "int32_t",
  main_gpu: "int32_t",
  tensor_split: "void *",
  progress_callback: "void *",
  progress_callback_user_data: "void *",
  kv_overrides: "void *",
  vocab_only: "bool",
  check_tensors: "bool",
  use_extra_bufts: "bool",
  no_host: "bool",
  no_alloc: "bool",
  load_mtp: "bool",
} as const;

/** include/llama.h `struct llama_model_params`, LP64 offsets. */
const MODEL_PARAMS_LAYOUT = {
  size: 80,
  offsets: { devices: 0, tensor_buft_overrides: 8, n_gpu_layers: 16, split_mode: 20, load_mode: 24, lazy_mode: 28, main_gpu: 32, tensor_split: 40, progress_callback: 48, progress_callback_user_data: 56, kv_overrides: 64, vocab_only: 72, check_tensors: 73, use_extra_bufts: 74, no_host: 75, no_alloc: 76, load_mtp: 77 },
} as const;

const CONTEXT_PARAM_FIELDS = {
  n_ctx: "uint32_t",
  n_batch: "uint32_t",
  n_ubatch: "uint32_t",
  n_seq_max: "uint32_t",
  n_rs_seq: "uint32_t",
  n_outputs_max: "uint32_t",
  n_outputs_max_per_seq: "uint32_t",
  n_threads: "int32_t",
  n_threads_batch: "int32_t",
  ctx_type: "int32_t",
  rope_scaling_type: "int32_t",
  pooling_type: "int32_t",
  attention_type: "int32_t",
  flash_attn_type: "int32_t",
  rope_freq_base: "float",
  rope_freq_scale: "float",
  yarn_ext_factor: "float",
  yarn_attn_factor: "float",
  yarn_beta_fast: "float",
  yarn_beta_slow: "float",
  yarn_orig_ctx: "uint32_t",
  defrag_thold: "float",
  cb_eval: "void *",
  cb_eval_user_data: "void *",
  type_k: "int32_t",
  type_v: "int32_t",
  abort_callback: "void *",
  abort_callback_data: "void *",
  embeddings: "bool",
  offload_kqv: "bool",
  no_perf: "bool",
  op_offload: "bool",
  swa_full: "bool",
  kv_unified: "bool",
  samplers: "void *",
  n_samplers: "size_t",
  ctx_other: "void *",
} as const;

/** include/llama.h `struct llama_context_params`, LP64 offsets. */
const CONTEXT_PARAMS_LAYOUT = {
  size: 160,
  offsets: {
    n_ctx: 0, n_batch: 4, n_ubatch: 8, n_seq_max: 12, n_rs_seq: 16, n_outputs_max: 20, n_outputs_max_per_seq: 24, n_threads: 28, n_threads_batch: 32,
    ctx_type: 36, rope_scaling_type: 40, pooling_type: 44, attention_type: 48, flash_attn_type: 52, rope_freq_base: 56, rope_freq_scale: 60,
    yarn_ext_factor: 64, yarn_attn_factor: 68, yarn_beta_fast: 72, yarn_beta_slow: 76, yarn_orig_ctx: 80, defrag_thold: 84, cb_eval: 88,
    cb_eval_user_data: 96, type_k: 104, type_v: 108, abort_callback: 112, abort_callback_data: 120, embeddings: 128, offload_kqv: 129,
    no_perf: 130, op_offload: 131, swa_full: 132, kv_unified: 133, samplers: 136, n_samplers: 144, ctx_other: 152,
  },
} as const;

const ModelParamsType = koffi.struct("slm_llama_model_params", MODEL_PARAM_FIELDS);
const ContextParamsType = koffi.struct("slm_llama_context_params", CONTEXT_PARAM_FIELDS);
/** What the default-params calls return into: the struct plus spare bytes, so a grown struct cannot overrun it. */
const ModelParamsProbeType = koffi.struct("slm_llama_model_params_probe", { ...MODEL_PARAM_FIELDS, spare: koffi.array("uint8_t", 192) });
const ContextParamsProbeType = koffi.struct("slm_llama_context_params_probe", { ...CONTEXT_PARAM_FIELDS, spare: koffi.array("uint8_t", 192) });

/** include/llama.h `struct llama_batch` (passed by value to llama_decode). */
const BatchType = koffi.struct("slm_llama_batch", {
  n_tokens: "int32_t",
  token: "void *",
  embd: "void *",
  pos: "void *",
  n_seq_id: "void *",
  seq_id: "void *",
  logits: "void *",
});

/** ggml/include/ggml.h `struct ggml_threadpool_params`. */
const ThreadpoolParamsType = koffi.struct("slm_ggml_threadpool_params", {
  cpumask: koffi.array("bool", GGML_MAX_N_THREADS),
  n_threads: "int32_t",
  prio: "int32_t",
  poll: "uint32_t",
  strict_cpu: "bool",
  paused: "bool",
});
const ThreadpoolNewProto = koffi.proto("void *slm_ggml_threadpool_new(slm_ggml_threadpool_params *params)");
const ThreadpoolFreeProto = koffi.proto("void slm_ggml_threadpool_free(void *threadpool)");
const LogCallbackType = koffi.proto("void slm_bench_ggml_log_callback(int level, const char *text, void *user_data)");

/** The `llama_model_params` fields SLM Lab sets; the rest stay at the library's defaults. */
export interface ModelParams {
  readonly n_gpu_layers: number;
  readonly use_extra_bufts: boolean;
  readonly [field: string]: unknown;
}

/** The `llama_context_params` fields SLM Lab sets; the rest stay at the library's defaults. */
export interface ContextParams {
  readonly n_ctx: number;
  readonly n_batch: number;
  readonly n_ubatch: number;
  readonly n_seq_max: number;
  readonly n_threads: number;
  readonly n_threads_batch: number;
  readonly flash_attn_type: number;
  readonly [field: string]: unknown;
}

/** `llama_flash_attn_type`. */
export const FLASH_ATTN_AUTO = -1;

/** The loaded functions, layout and defaults checked. */
export interface LibllamaInference {
  readonly location: LibllamaLocation;
  readonly llamaVersion: string;
  readonly defaultModelParams: ModelParams;
  readonly defaultContextParams: ContextParams;
  /** Sends llama.cpp's log lines (pieces of text; level = `enum ggml_log_level`) to `listener`. */
  setLogListener(listener: ((level: number, text: string) => void) | undefined): void;
  loadModel(path: string, params: ModelParams): NativePointer | null;
  freeModel(model: NativePointer): void;
  createContext(model: NativePointer, params: ContextParams): NativePointer | null;
  freeContext(context: NativePointer): void;
  /** A CPU threadpool like llama-bench's (`ggml_threadpool_new` of the CPU backend), attached to the context. */
  attachThreadpool(context: NativePointer, threads: number, poll: number): NativePointer;
  freeThreadpool(threadpool: NativePointer): void;
  /** `llama_memory_clear(llama_get_memory(ctx), data)`. */
  clearMemory(context: NativePointer, data: boolean): void;
  /** `llama_decode` of `count` tokens; `outputs` flags which positions return logits (null: llama.cpp's default, the last). */
  decode(context: NativePointer, tokens: Int32Array, count: number, outputs: Int8Array | null): number;
  synchronize(context: NativePointer): void;
  /** The logits of output `index` (as counted by llama.cpp), a view on native memory valid until the next decode. */
  logits(context: NativePointer, index: number, vocabSize: number): Float32Array;
  vocab(model: NativePointer): NativePointer;
  vocabSize(vocab: NativePointer): number;
  bosToken(vocab: NativePointer): number;
  addsBos(vocab: NativePointer): boolean;
  addsEos(vocab: NativePointer): boolean;
  /** `llama_tokenize` with add_special and parse_special as `common_tokenize(ctx, text, add_special)` calls it. */
  tokenize(vocab: NativePointer, text: string, addSpecial: boolean): Int32Array;
  parameterCount(model: NativePointer): number;
}

/** Checks koffi's layout of a mirror against the header's offsets. */
function checkLayout(name: string, type: ReturnType<Koffi["struct"]>, layout: { readonly size: number; readonly offsets: Readonly<Record<string, number>> }): void {
  const size = koffi.sizeof(type);
  const wrong = Object.entries(layout.offsets).filter(([field, offset]) => koffi.offsetof(type, field) !== offset).map(([field]) => field);
  if (size !== layout.size || wrong.length > 0) {
    throw new LibllamaBindingError(
      `${name} is laid out differently than in llama.h (size ${size}, expected ${layout.size}${wrong.length > 0 ? `; fields at unexpected offsets: ${wrong.join(", ")}` : ""}).`,
      "Benchmarking is disabled on this platform to avoid corrupting memory; please report it.",
    );
  }
}

/** Checks the structs' layout (koffi vs include/llama.h) before anything is called. */
export function checkInferenceLayouts(): void {
  checkLayout("llama_model_params", ModelParamsType, MODEL_PARAMS_LAYOUT);
  checkLayout("llama_context_params", ContextParamsType, CONTEXT_PARAMS_LAYOUT);
  if (koffi.sizeof(BatchType) !== 56) throw new LibllamaBindingError(`llama_batch has size ${koffi.sizeof(BatchType)}, expected 56.`, "Please report it.");
  if (koffi.sizeof(ThreadpoolParamsType) !== 528) throw new LibllamaBindingError(`ggml_threadpool_params has size ${koffi.sizeof(ThreadpoolParamsType)}, expected 528.`, "Please report it.");
}

/** Checks the defaults the library returns against those of src/llama-model.cpp / src/llama-context.cpp of the mirrored commit. */
export function checkInferenceDefaults(model: Readonly<Record<string, unknown>>, context: Readonly<Record<string, unknown>>, llamaVersion: string): void {
  const expectedModel: Readonly<Record<string, unknown>> = {
    devices: null, tensor_buft_overrides: null, n_gpu_layers: -1, split_mode: 1, load_mode: -1, lazy_mode: 1, main_gpu: 0, tensor_split: null,
    progress_callback: null, kv_overrides: null, vocab_only: false, check_tensors: false, use_extra_bufts: true, no_host: false, no_alloc: false, load_mtp: false,
  };
  const expectedContext: Readonly<Record<string, unknown>> = {
    n_ctx: 512, n_batch: 2048, n_ubatch: 512, n_seq_max: 1, n_rs_seq: 0, n_outputs_max: 0, n_outputs_max_per_seq: 1, n_threads: 4, n_threads_batch: 4,
    ctx_type: 0, rope_scaling_type: -1, pooling_type: -1, attention_type: -1, flash_attn_type: FLASH_ATTN_AUTO, rope_freq_base: 0, rope_freq_scale: 0,
    yarn_ext_factor: -1, yarn_attn_factor: -1, yarn_orig_ctx: 0, cb_eval: null, type_k: 1, type_v: 1, abort_callback: null, embeddings: false,
    offload_kqv: true, no_perf: true, op_offload: true, swa_full: true, kv_unified: false, samplers: null, ctx_other: null,
  };
  const mismatches = [
    ...Object.keys(expectedModel).filter((key) => model[key] !== expectedModel[key]).map((key) => `model.${key}`),
    ...Object.keys(expectedContext).filter((key) => context[key] !== expectedContext[key]).map((key) => `context.${key}`),
  ];
  if (Number(context["n_samplers"]) !== 0) mismatches.push("context.n_samplers");
  if (mismatches.length > 0 || llamaVersion !== EXPECTED_LLAMA_VERSION) {
    throw new LibllamaBindingError(
      `The bundled llama.cpp (${llamaVersion}) does not match the inference API SLM Lab's bench was built for (${EXPECTED_LLAMA_VERSION})` +
        (mismatches.length > 0 ? `: unexpected defaults for ${mismatches.join(", ")}.` : "."),
      "Benchmarking is disabled to avoid corrupting memory; update SLM Lab (src/core/bench/libllamaInferenceBinding.ts mirrors include/llama.h).",
    );
  }
}

type Fn<A extends unknown[], R> = (...args: A) => R;

let loaded: LibllamaInference | undefined;

/** Loads libllama once per process, loads ggml's CPU backend, and checks the structs and defaults. */
export function loadLibllamaInference(): LibllamaInference {
  if (loaded !== undefined) return loaded;
  checkInferenceLayouts();
  const location = locateLibllama();
  let lib: LibraryHandle;
  let ggml: LibraryHandle;
  let ggmlBase: LibraryHandle;
  try {
    lib = koffi.load(location.libraryPath);
    ggml = koffi.load(location.libraryPath.replace(/libllama(\.v[\d.]+)?\.so$/, "libggml$1.so"));
    ggmlBase = koffi.load(location.libraryPath.replace(/libllama(\.v[\d.]+)?\.so$/, "libggml-base.so"));
  } catch (error: unknown) {
    throw new LibllamaBindingError(`Cannot load llama.cpp's libraries from ${location.binariesDir}: ${error instanceof Error ? error.message : String(error)}`, "Reinstall SLM Lab.", error);
  }
  const llamaVersion = String((lib.func("const char *llama_version(void)") as Fn<[], unknown>)());
  // The version is checked before the struct-returning calls' results are used; the probes have room either way.
  const modelDefaults = (lib.func("llama_model_default_params", ModelParamsProbeType, []) as Fn<[], Record<string, unknown>>)();
  const contextDefaults = (lib.func("llama_context_default_params", ContextParamsProbeType, []) as Fn<[], Record<string, unknown>>)();
  checkInferenceDefaults(modelDefaults, contextDefaults, llamaVersion);
  const { spare: _modelSpare, ...defaultModel } = modelDefaults;
  const { spare: _contextSpare, ...defaultContext } = contextDefaults;

  const backendInit = lib.func("void llama_backend_init(void)") as Fn<[], void>;
  const logSet = lib.func("void llama_log_set(slm_bench_ggml_log_callback *callback, void *user_data)") as Fn<[unknown, null], void>;
  const loadAllFromPath = ggml.func("void ggml_backend_load_all_from_path(const char *dir)") as Fn<[string], void>;
  const devByType = ggml.func("void *ggml_backend_dev_by_type(int type)") as Fn<[number], NativePointer | null>;
  const devBackendReg = ggmlBase.func("void *ggml_backend_dev_backend_reg(void *dev)") as Fn<[NativePointer], NativePointer | null>;
  const regProcAddress = ggmlBase.func("void *ggml_backend_reg_get_proc_address(void *reg, const char *name)") as Fn<[NativePointer, string], NativePointer | null>;
  const threadpoolParamsDefault = ggmlBase.func("ggml_threadpool_params_default", ThreadpoolParamsType, ["int"]) as Fn<[number], Record<string, unknown>>;

  const modelLoad = lib.func("llama_model_load_from_file", "void *", ["const char *", ModelParamsType]) as Fn<[string, ModelParams], NativePointer | null>;
  const modelFree = lib.func("void llama_model_free(void *model)") as Fn<[NativePointer], void>;
  const initFromModel = lib.func("llama_init_from_model", "void *", ["void *", ContextParamsType]) as Fn<[NativePointer, ContextParams], NativePointer | null>;
  const contextFree = lib.func("void llama_free(void *ctx)") as Fn<[NativePointer], void>;
  const attach = lib.func("void llama_attach_threadpool(void *ctx, void *threadpool, void *threadpool_batch)") as Fn<[NativePointer, NativePointer, null], void>;
  const getMemory = lib.func("void *llama_get_memory(void *ctx)") as Fn<[NativePointer], NativePointer | null>;
  const memoryClear = lib.func("void llama_memory_clear(void *mem, bool data)") as Fn<[NativePointer, boolean], void>;
  const decodeFunction = lib.func("llama_decode", "int32_t", ["void *", BatchType]) as Fn<[NativePointer, Record<string, unknown>], number>;
  const synchronizeFunction = lib.func("void llama_synchronize(void *ctx)") as Fn<[NativePointer], void>;
  const getLogitsIth = lib.func("void *llama_get_logits_ith(void *ctx, int32_t i)") as Fn<[NativePointer, number], NativePointer | null>;
  const modelGetVocab = lib.func("void *llama_model_get_vocab(void *model)") as Fn<[NativePointer], NativePointer>;
  const vocabNTokens = lib.func("int32_t llama_vocab_n_tokens(void *vocab)") as Fn<[NativePointer], number>;
  const vocabBos = lib.func("int32_t llama_vocab_bos(void *vocab)") as Fn<[NativePointer], number>;
  const vocabAddBos = lib.func("bool llama_vocab_get_add_bos(void *vocab)") as Fn<[NativePointer], boolean>;
  const vocabAddEos = lib.func("bool llama_vocab_get_add_eos(void *vocab)") as Fn<[NativePointer], boolean>;
  const tokenizeFunction = lib.func("int32_t llama_tokenize(void *vocab, const char *text, int32_t text_len, _Out_ int32_t *tokens, int32_t n_tokens_max, bool add_special, bool parse_special)") as Fn<[NativePointer, Buffer, number, Int32Array, number, boolean, boolean], number>;
  const modelNParams = lib.func("uint64_t llama_model_n_params(void *model)") as Fn<[NativePointer], number | bigint>;

  let logListener: ((level: number, text: string) => void) | undefined;
  // Registered once for the life of the process: llama.cpp keeps the pointer.
  const logCallback = koffi.register((level: number, text: string | null) => {
    if (text !== null) logListener?.(level, text);
  }, koffi.pointer(LogCallbackType));
  logSet(logCallback, null);
  backendInit();
  // node-llama-cpp's binaries are built with GGML_BACKEND_DL: the CPU backend (the variant that suits this CPU) is a
  // separate library that must be loaded, as llama-bench's ggml_backend_load_all() does.
  loadAllFromPath(location.binariesDir);
  const cpuDevice = devByType(GGML_BACKEND_DEVICE_TYPE_CPU);
  const cpuReg = cpuDevice === null ? null : devBackendReg(cpuDevice);
  if (cpuReg === null) throw new LibllamaBindingError(`llama.cpp's CPU backend did not load from ${location.binariesDir}.`, "Reinstall SLM Lab.");
  const threadpoolNewPointer = regProcAddress(cpuReg, "ggml_threadpool_new");
  const threadpoolFreePointer = regProcAddress(cpuReg, "ggml_threadpool_free");
  if (threadpoolNewPointer === null || threadpoolFreePointer === null) throw new LibllamaBindingError("llama.cpp's CPU backend has no threadpool functions.", "Please report it.");

  const toNumber = (value: number | bigint): number => Number(value);

  loaded = {
    location,
    llamaVersion,
    defaultModelParams: defaultModel as unknown as ModelParams,
    defaultContextParams: defaultContext as unknown as ContextParams,
    setLogListener(listener) {
      logListener = listener;
    },
    loadModel: (path, params) => modelLoad(path, params),
    freeModel: (model) => { modelFree(model); },
    createContext: (model, params) => initFromModel(model, params),
    freeContext: (context) => { contextFree(context); },
    attachThreadpool(context, threads, poll) {
      // llama-bench: ggml_threadpool_params_default(n_threads), poll 50, normal priority, no cpu mask.
      const params = { ...threadpoolParamsDefault(threads), poll };
      const threadpool = koffi.call(threadpoolNewPointer, ThreadpoolNewProto, params) as NativePointer | null;
      if (threadpool === null) throw new LibllamaBindingError(`llama.cpp could not create a threadpool of ${threads} threads.`, "Use fewer threads.");
      attach(context, threadpool, null);
      return threadpool;
    },
    freeThreadpool(threadpool) {
      koffi.call(threadpoolFreePointer, ThreadpoolFreeProto, threadpool);
    },
    clearMemory(context, data) {
      const memory = getMemory(context);
      if (memory !== null) memoryClear(memory, data);
    },
    decode(context, tokens, count, outputs) {
      return decodeFunction(context, {
        n_tokens: count,
        token: koffi.as(tokens, "void *"),
        embd: null,
        pos: null,
        n_seq_id: null,
        seq_id: null,
        logits: outputs === null ? null : koffi.as(outputs, "void *"),
      });
    },
    synchronize: (context) => { synchronizeFunction(context); },
    logits(context, index, vocabSize) {
      const pointer = getLogitsIth(context, index);
      if (pointer === null) throw new Error(`llama.cpp has no logits for output ${index}`);
      return new Float32Array(koffi.view(pointer, vocabSize * 4));
    },
    vocab: (model) => modelGetVocab(model),
    vocabSize: (vocab) => vocabNTokens(vocab),
    bosToken: (vocab) => vocabBos(vocab),
    addsBos: (vocab) => vocabAddBos(vocab),
    addsEos: (vocab) => vocabAddEos(vocab),
    tokenize(vocab, text, addSpecial) {
      const bytes = Buffer.from(text, "utf8");
      // common_tokenize: a first guess, then the exact size llama_tokenize asks for (a negative count).
      let tokens = new Int32Array(bytes.length + 2);
      let count = tokenizeFunction(vocab, bytes, bytes.length, tokens, tokens.length, addSpecial, false);
      if (count < 0) {
        tokens = new Int32Array(-count);
        count = tokenizeFunction(vocab, bytes, bytes.length, tokens, tokens.length, addSpecial, false);
      }
      if (count < 0) throw new Error(`llama_tokenize failed (${count})`);
      return tokens.subarray(0, count);
    },
    parameterCount: (model) => toNumber(modelNParams(model)),
  };
  return loaded;
}
