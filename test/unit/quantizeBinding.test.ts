// The koffi binding to the bundled libllama (struct layout and defaults checked against the real library), the
// types table against the bundled llama-quantize's QUANT_OPTIONS, and the log parser on llama.cpp's real lines.
// In its own file (so its own process): it loads libllama and sets llama.cpp's log callback.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { LlamaFileType } from "../../src/core/gguf/llamaFileTypes";
import { checkDefaultParams, checkParamsLayout, loadLibllamaQuantize } from "../../src/core/quantize/libllamaQuantizeBinding";
import { LibllamaBindingError, llamaCppSourceCommit, locateLibllama } from "../../src/core/quantize/libllamaLocation";
import { LogLineSplitter, TensorLineAssembler, isImatrixRequiredWarning, parseFailureLine, parseTensorLine } from "../../src/core/quantize/quantizeLogParser";
import { findQuantizationType, quantizationPresets, quantizationTypes } from "../../src/core/quantize/quantizationTypes";
import { llamaCppBundleCommit, llamaCppSourceFile } from "../fixtures/llamaCppSource";

test("the struct mirror matches include/llama.h's layout and the library's defaults", async () => {
  checkParamsLayout();
  const library = loadLibllamaQuantize();
  assert.equal(library.llamaVersion, "0.5.0-dev");
  assert.equal(library.defaultParams.ftype, 7);
  assert.equal(library.defaultParams.output_tensor_type, 43);
  assert.equal(library.defaultParams.token_embedding_type, 43);
  assert.equal(library.defaultParams.quantize_output_tensor, true);
  assert.equal(Number(library.defaultParams.max_buf_size), 8 * 1024 ** 3);
  assert.equal(library.location.llamaCppRelease, "v0.5.0");
  assert.equal(llamaCppSourceCommit(library.location), await llamaCppBundleCommit());

  // The header we mirrored still says what the binding assumes.
  const header = await readFile(await llamaCppSourceFile("include/llama.h"), "utf8");
  const struct = /typedef struct llama_model_quantize_params \{([\s\S]*?)\} llama_model_quantize_params;/.exec(header)?.[1] ?? "";
  const fields = [...struct.matchAll(/^\s*(?:const\s+)?(?:struct\s+|enum\s+)?\w+\s*\*?\s*(\w+);/gm)].map((match) => match[1]);
  assert.deepEqual(fields, [
    "nthread", "ftype", "output_tensor_type", "token_embedding_type", "allow_requantize", "quantize_output_tensor",
    "only_copy", "pure", "keep_split", "dry_run", "imatrix", "kv_overrides", "tt_overrides", "prune_layers", "max_buf_size",
  ]);
});

test("a library whose defaults or version differ is refused with a clear error", () => {
  const good = loadLibllamaQuantize().defaultParams as unknown as Record<string, unknown>;
  assert.doesNotThrow(() => { checkDefaultParams(good, "0.5.0-dev"); });
  assert.throws(() => { checkDefaultParams({ ...good, ftype: 8 }, "0.5.0-dev"); }, (error: unknown) => {
    assert.ok(error instanceof LibllamaBindingError);
    assert.match(error.message, /unexpected defaults for ftype/);
    return true;
  });
  assert.throws(() => { checkDefaultParams(good, "0.6.0"); }, LibllamaBindingError);
});

test("the library is found through the installed package", () => {
  const location = locateLibllama();
  assert.match(location.libraryPath, /@node-llama-cpp\/linux-x64\/bins\/linux-x64\/libllama\.v[\d.]+\.so$/);
  assert.equal(location.binariesPackageVersion, "3.22.1");
});

test("the types table offers exactly what the bundled llama-quantize offers", async () => {
  const source = await readFile(await llamaCppSourceFile("tools/quantize/quantize.cpp"), "utf8");
  const options = [...source.matchAll(/\{\s*"(\w+)",\s*LLAMA_FTYPE_(?:MOSTLY_)?(\w+),\s*"([^"]*)"/g)].map((match) => ({
    name: match[1] ?? "",
    ftype: match[2] ?? "",
    description: (match[3] ?? "").trim(),
  }));
  assert.ok(options.length > 30);
  const aliases = options.filter((option) => option.description.startsWith("alias for"));
  const offered = options.filter((option) => option.name !== "COPY" && !aliases.includes(option));
  assert.deepEqual(quantizationTypes.map((type) => type.name), offered.map((option) => option.name));
  for (const option of offered) {
    const type = findQuantizationType(option.name);
    assert.ok(type !== undefined, option.name);
    assert.equal(type.ftype, LlamaFileType[option.ftype === "ALL_F32" ? "F32" : (option.ftype as keyof typeof LlamaFileType)], option.name);
    assert.equal(type.description.replace(/\s+/g, " "), option.description.replace(/\s+/g, " "), option.name);
  }
  for (const alias of aliases) assert.equal(findQuantizationType(alias.name.toLowerCase())?.name, alias.description.replace("alias for ", ""));
});

test("types: imatrix, ternary, bits per weight, presets", () => {
  const needImatrix = quantizationTypes.filter((type) => type.requiresImatrix).map((type) => type.name).sort();
  assert.deepEqual(needImatrix, ["IQ1_M", "IQ1_S", "IQ2_M", "IQ2_S", "IQ2_XS", "IQ2_XXS", "IQ3_XS", "IQ3_XXS", "Q2_K_S"]);
  assert.equal(findQuantizationType("IQ3_XS")?.requiresImatrixWhenPure, false);
  assert.deepEqual(quantizationTypes.filter((type) => type.ternary).map((type) => type.name), ["TQ1_0", "TQ2_0"]);
  assert.equal(findQuantizationType("Q4_0")?.bitsPerWeight, 4.5);
  assert.equal(findQuantizationType("Q8_0")?.bitsPerWeight, 8.5);
  assert.equal(findQuantizationType("q6_k")?.bitsPerWeight, 6.5625);
  assert.equal(findQuantizationType("TQ1_0")?.bitsPerWeight, 1.6875);
  assert.deepEqual(quantizationPresets.map((preset) => preset.label), ["Mobile (Q4_0)", "Edge (Q5_1)", "Production (Q8_0)", "Balanced (Q4_K_M)"]);
  assert.equal(findQuantizationType("Mobile")?.name, "Q4_0");
  assert.equal(findQuantizationType("edge")?.name, "Q5_1");
  assert.equal(findQuantizationType("PRODUCTION")?.name, "Q8_0");
  assert.equal(findQuantizationType("balanced")?.name, "Q4_K_M");
  assert.equal(findQuantizationType("Balanced (Q4_K_M)")?.name, "Q4_K_M");
  assert.equal(findQuantizationType("Q9_9"), undefined);
});

test("log parser: llama.cpp's tensor lines, real run and dry run, in pieces", () => {
  const splitter = new LogLineSplitter();
  const pieces = [
    "[   3/  21] token_embd.weight                    - [   256,  32000,      1,      1], type =    f16, ",
    "converting to q4_0 .. ",
    "size =    15.62 MiB ->     4.39 MiB\n[   2/  21] output_norm.weight ",
    "                  - [   256,      1,      1,      1], type =    f32, size =    0.001 MiB\n",
  ];
  const lines = pieces.flatMap((piece) => splitter.push(piece));
  assert.equal(lines.length, 2);
  assert.deepEqual(parseTensorLine(lines[0] ?? ""), {
    index: 3, count: 21, name: "token_embd.weight", shape: [256, 32000, 1, 1], sourceType: "f16", targetType: "q4_0",
  });
  assert.equal(parseTensorLine(lines[1] ?? "")?.targetType, "f32");
  const dry = parseTensorLine("[   1/  21] output.weight                        - [   256,  32000,      1,      1], type =    f16, size =    15.62 MiB ->     6.41 MiB (q6_K)");
  assert.equal(dry?.targetType, "q6_K");
  assert.equal(parseTensorLine("llama_model_loader: - type  f32:    5 tensors"), undefined);
  assert.equal(parseFailureLine("llama_model_quantize: failed to quantize: requantizing from type q8_0 is disabled"), "requantizing from type q8_0 is disabled");
  assert.ok(isImatrixRequiredWarning("llama_model_quantize_impl: WARNING: dry run completed successfully, but actually completing this quantization will require an imatrix!"));
  assert.deepEqual(splitter.flush(), []);
});

test("a tensor line split by an importance-matrix notice is put back together", () => {
  const assembler = new TensorLineAssembler();
  const lines = [
    "[   1/  26]                    token_embd.weight - [  256, 32000,     1,     1], type =    f16, ",
    "====== llama_model_quantize_impl: did not find weights for token_embd.weight",
    "converting to q2_K .. size =    15.62 MiB ->     2.56 MiB",
    "[   2/  26]               blk.0.attn_q.weight - [  256,   256,     1,     1], type =    f16, converting to iq2_xxs .. size =     0.12 MiB ->     0.02 MiB",
  ];
  const parsed = lines.map((line) => assembler.push(line)).flatMap((line) => (line === undefined ? [] : [parseTensorLine(line)]));
  assert.deepEqual(
    parsed.filter((tensor) => tensor !== undefined).map((tensor) => [tensor.name, tensor.targetType]),
    [["token_embd.weight", "q2_K"], ["blk.0.attn_q.weight", "iq2_xxs"]],
  );
});
