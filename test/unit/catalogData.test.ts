// The bundled curated catalog (src/core/catalog/curatedModels.json): it validates, holds every model issue 4 asks
// for, derives size classes from the parameter counts, marks every fact it could not confirm, and recommends the
// quantizations of ../shared/reference/quantization.md.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FACT_GROUPS, type CatalogEntry } from "../../src/core/catalog/catalogTypes";
import {
  entrySizeClass,
  factVerifications,
  fimCapableEntries,
  filterCatalog,
  findCatalogEntry,
  groupBySizeClass,
  loadCuratedCatalog,
  unconfirmedFacts,
} from "../../src/core/catalog/curatedCatalog";
import { publishedQuantizations, recommendedQuantizations } from "../../src/core/catalog/recommendedQuantizations";
import { SIZE_CLASSES, sizeClassOf } from "../../src/core/catalog/sizeClasses";

const catalog = loadCuratedCatalog();
const entries = catalog.entries;

function entry(id: string): CatalogEntry {
  const found = findCatalogEntry(entries, id);
  assert.ok(found, `catalog entry ${id}`);
  return found;
}

/** The models issue 4 names, with the parameter count their model card gives. */
const REQUIRED: readonly (readonly [id: string, family: string, parameters: number])[] = [
  ["qwen3-0.6b", "Qwen3", 0.6e9],
  ["qwen3-1.7b", "Qwen3", 1.7e9],
  ["qwen3-4b", "Qwen3", 4.0e9],
  ["qwen3-8b", "Qwen3", 8.2e9],
  ["phi-4-mini", "Phi-4", 3.8e9],
  ["gemma-3-1b", "Gemma 3", 1e9],
  ["gemma-3-4b", "Gemma 3", 4e9],
  ["gemma-3-12b", "Gemma 3", 12e9],
  ["gemma-3-27b", "Gemma 3", 27e9],
  ["llama-3.2-1b", "Llama 3.2", 1.23e9],
  ["llama-3.2-3b", "Llama 3.2", 3.21e9],
  ["llama-3.1-8b", "Llama 3.1", 8e9],
  ["smollm2-135m", "SmolLM2", 135e6],
  ["smollm2-360m", "SmolLM2", 360e6],
  ["smollm2-1.7b", "SmolLM2", 1.7e9],
  ["bitnet-b1.58-2b-4t", "BitNet", 2e9],
  ["qwen2.5-coder-0.5b", "Qwen2.5-Coder", 0.49e9],
  ["qwen2.5-coder-1.5b", "Qwen2.5-Coder", 1.54e9],
  ["qwen2.5-coder-3b", "Qwen2.5-Coder", 3.09e9],
  ["qwen2.5-coder-7b", "Qwen2.5-Coder", 7.61e9],
  ["starcoder2-3b", "StarCoder2", 3e9],
  ["deepseek-coder-1.3b", "DeepSeek-Coder", 1.3e9],
  ["codegemma-2b", "CodeGemma", 2e9],
];

describe("curated catalog data", () => {
  test("loads and validates, with unique ids", () => {
    assert.equal(catalog.schemaVersion, 1);
    assert.match(catalog.reviewed, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(new Set(entries.map((item) => item.id)).size, entries.length);
    // Loading twice returns the same validated object (parsed once).
    assert.equal(loadCuratedCatalog(), catalog);
  });

  test("holds every model the issue asks for, with its family and card parameter count", () => {
    for (const [id, family, parameters] of REQUIRED) {
      const item = entry(id);
      assert.equal(item.family, family, `${id} family`);
      assert.equal(item.parameters, parameters, `${id} parameters`);
    }
    const counts = new Map<string, number>();
    for (const item of entries) counts.set(item.family, (counts.get(item.family) ?? 0) + 1);
    assert.ok((counts.get("Qwen3") ?? 0) >= 4, "Qwen3 0.6B/1.7B/4B/8B");
    assert.ok((counts.get("Gemma 3") ?? 0) >= 4, "Gemma 3 1B/4B/12B/27B");
    assert.ok((counts.get("Qwen2.5-Coder") ?? 0) >= 4, "Qwen2.5-Coder 0.5B/1.5B/3B/7B");
    assert.ok((counts.get("SmolLM2") ?? 0) >= 3, "SmolLM2 135M/360M/1.7B");
    assert.ok((counts.get("Llama 3.2") ?? 0) + (counts.get("Llama 3.1") ?? 0) >= 3, "Llama 3.x 1B/3B/8B");
  });

  test("size classes are derived from the parameter counts", () => {
    const expected: Readonly<Record<string, string>> = {
      "smollm2-135m": "micro",
      "qwen2.5-coder-0.5b": "micro",
      "qwen3-0.6b": "micro",
      "gemma-3-1b": "micro",
      "llama-3.2-1b": "micro",
      "deepseek-coder-1.3b": "micro",
      "qwen2.5-coder-1.5b": "small",
      "qwen3-1.7b": "small",
      "bitnet-b1.58-2b-4t": "small",
      "phi-4-mini": "small",
      "qwen3-8b": "small",
      "gemma-3-12b": "small",
      "gemma-3-27b": "medium",
    };
    for (const [id, sizeClass] of Object.entries(expected)) assert.equal(entrySizeClass(entry(id)), sizeClass, id);
    for (const item of entries) assert.equal(entrySizeClass(item), sizeClassOf(item.parameters), item.id);

    const groups = groupBySizeClass(entries);
    assert.deepEqual([...groups.keys()], [...SIZE_CLASSES]);
    assert.equal([...groups.values()].reduce((sum, group) => sum + group.length, 0), entries.length);
    for (const [sizeClass, group] of groups) {
      assert.ok(group.length > 0, `${sizeClass} is not empty`);
      for (const item of group) assert.equal(entrySizeClass(item), sizeClass);
      const parameters = group.map((item) => item.parameters);
      assert.deepEqual(parameters, [...parameters].sort((a, b) => a - b), `${sizeClass} ordered by size`);
    }
  });

  test("every fact group carries a verification record; every unverified fact says what is unknown", () => {
    let unverified = 0;
    for (const item of entries) {
      const groups = factVerifications(item).map((fact) => fact.group);
      const expectedGroups = FACT_GROUPS.filter((group) => group !== "fim" || item.tags.includes("fim"));
      assert.deepEqual(groups, expectedGroups, `${item.id} fact groups`);
      for (const fact of factVerifications(item)) {
        const check = item.verification[fact.group];
        assert.ok(check);
        if (check.status === "unverified") {
          unverified++;
          assert.ok((check.note ?? "").length >= 20, `${item.id}.${fact.group}: an unverified fact explains what is unknown`);
        } else {
          assert.ok(check.sources.length > 0, `${item.id}.${fact.group}: a ${check.status} fact cites a source`);
        }
      }
      // An "unknown" availability is an unconfirmed fact, and must be reported as one.
      if (item.availability.azureAiFoundry === "unknown" || item.availability.foundryLocal === "unknown") {
        assert.ok((item.verification.availability?.note ?? "").length > 0, `${item.id}: an unknown availability is explained`);
      }
      assert.ok(item.sources.length > 0, `${item.id} lists its sources`);
      for (const source of item.sources) assert.match(source, /^https:\/\//, `${item.id} source ${source}`);
    }
    // The catalog does have gaps, and they are visible rather than hidden.
    assert.ok(unverified > 0);
    const llamaGaps = unconfirmedFacts(entry("llama-3.1-8b"));
    assert.ok(llamaGaps.some((fact) => fact.group === "gated" && fact.status === "unverified" && fact.note !== undefined));
    assert.ok(!unconfirmedFacts(entry("bitnet-b1.58-2b-4t")).some((fact) => fact.group === "parameters"));
  });

  test("GGUF sources name confirmed files or quantizations, or say why not", () => {
    for (const item of entries) {
      assert.match(item.repositories.safetensors, /^[\w.-]+\/[\w.-]+$/, item.id);
      assert.ok(item.repositories.gguf.length > 0, `${item.id} has at least one GGUF source`);
      for (const source of item.repositories.gguf) {
        if (source.files.length === 0 && source.quantTags.length === 0) assert.ok(source.note, `${item.id} ${source.repo}`);
        for (const file of source.files) assert.match(file, /\.gguf$/);
      }
    }
    assert.deepEqual(entry("bitnet-b1.58-2b-4t").repositories.gguf[0]?.files, ["ggml-model-i2_s.gguf"]);
  });

  test("FIM-capable entries carry the tokens of their model family", () => {
    const fim = fimCapableEntries(entries).map((item) => item.id).sort();
    assert.deepEqual(fim, [
      "codegemma-2b",
      "deepseek-coder-1.3b",
      "qwen2.5-coder-0.5b",
      "qwen2.5-coder-1.5b",
      "qwen2.5-coder-3b",
      "qwen2.5-coder-7b",
      "starcoder2-3b",
    ]);
    for (const item of entries) assert.equal(item.fim !== undefined, item.tags.includes("fim"), item.id);
    assert.deepEqual(
      [entry("qwen2.5-coder-1.5b").fim?.prefix, entry("qwen2.5-coder-1.5b").fim?.suffix, entry("qwen2.5-coder-1.5b").fim?.middle],
      ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"],
    );
    // DeepSeek's tokens use full-width bars (U+FF5C) and U+2581, as llama.cpp's llama-vocab.cpp matches them.
    assert.equal(entry("deepseek-coder-1.3b").fim?.prefix, "<\uFF5Cfim\u2581begin\uFF5C>");
    assert.equal(entry("starcoder2-3b").fim?.template, "starcoder");
    assert.equal(entry("codegemma-2b").fim?.fileSeparator, "<|file_separator|>");
    // FIM works best on base weights: the coder entries point at base safetensors repos.
    for (const item of fimCapableEntries(entries)) assert.equal(item.repositories.variant, "base", item.id);
  });

  test("license, gating and Foundry availability follow what was looked up", () => {
    assert.equal(entry("qwen2.5-coder-3b").license.id, "qwen-research");
    assert.equal(entry("qwen2.5-coder-7b").license.id, "Apache-2.0");
    assert.equal(entry("phi-4-mini").license.id, "MIT");
    for (const id of ["gemma-3-1b", "gemma-3-27b", "llama-3.2-1b", "llama-3.1-8b", "codegemma-2b"]) assert.equal(entry(id).gated, true, id);
    for (const id of ["qwen3-0.6b", "smollm2-135m", "bitnet-b1.58-2b-4t"]) assert.equal(entry(id).gated, false, id);
    assert.equal(entry("phi-4-mini").availability.foundryLocalAlias, "phi-4-mini");
    assert.equal(entry("qwen2.5-coder-7b").availability.foundryLocal, "listed");
    assert.equal(entry("qwen2.5-coder-3b").availability.foundryLocal, "not-listed");
    const local = entries.filter((item) => item.availability.foundryLocal === "listed").map((item) => item.availability.foundryLocalAlias);
    assert.deepEqual(local.sort(), ["phi-4-mini", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "qwen2.5-coder-7b", "qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b"]);
  });

  test("filters by size class and tags", () => {
    const microCode = filterCatalog(entries, { sizeClass: "micro", tags: ["code", "fim"] }).map((item) => item.id);
    assert.deepEqual(microCode.sort(), ["deepseek-coder-1.3b", "qwen2.5-coder-0.5b"]);
    assert.deepEqual(filterCatalog(entries, { sizeClass: "medium" }).map((item) => item.id), ["gemma-3-27b"]);
    assert.deepEqual(filterCatalog(entries, { tags: ["ternary"] }).map((item) => item.id), ["bitnet-b1.58-2b-4t"]);
    assert.equal(filterCatalog(entries, {}).length, entries.length);
    assert.equal(findCatalogEntry(entries, "QWEN3-0.6B")?.id, "qwen3-0.6b");
    assert.equal(findCatalogEntry(entries, "no-such-model"), undefined);
  });
});

describe("recommendedQuantizations", () => {
  test("Q4_0 for phones, Q5_1 for edge, Q8_0 for quality", () => {
    for (const item of entries.filter((candidate) => !candidate.tags.includes("ternary"))) {
      const recommended = recommendedQuantizations(item);
      assert.deepEqual(recommended.map((choice) => [choice.type, choice.preset]), [["Q4_0", "mobile"], ["Q5_1", "edge"], ["Q8_0", "production"]], item.id);
    }
  });

  test("ternary models get llama.cpp's ternary types", () => {
    const recommended = recommendedQuantizations(entry("bitnet-b1.58-2b-4t"));
    assert.deepEqual(recommended.map((choice) => choice.type), ["TQ2_0", "TQ1_0"]);
    // The official I2_S file is not one of them (bitnet.cpp only).
    assert.ok(recommended.every((choice) => choice.publishedIn.length === 0));
  });

  test("points at published files that already hold the type", () => {
    const qwen = recommendedQuantizations(entry("qwen3-0.6b"));
    assert.deepEqual(qwen.find((choice) => choice.type === "Q4_0")?.publishedIn, [{ repo: "ggml-org/Qwen3-0.6B-GGUF", file: "Qwen3-0.6B-Q4_0.gguf" }]);
    assert.deepEqual(qwen.find((choice) => choice.type === "Q5_1")?.publishedIn, []);
    assert.deepEqual(qwen.find((choice) => choice.type === "Q8_0")?.publishedIn.map((published) => published.repo), ["Qwen/Qwen3-0.6B-GGUF", "ggml-org/Qwen3-0.6B-GGUF"]);
    // Lower-case and dotted file names (TheBloke, Qwen's coder repos) match too; Q4_K_M is not mistaken for Q4_0.
    assert.deepEqual(publishedQuantizations(entry("deepseek-coder-1.3b"), "Q8_0"), [{ repo: "TheBloke/deepseek-coder-1.3b-base-GGUF", file: "deepseek-coder-1.3b-base.Q8_0.gguf" }]);
    assert.deepEqual(publishedQuantizations(entry("qwen2.5-coder-0.5b"), "Q4_0"), [{ repo: "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF", file: "qwen2.5-coder-0.5b-instruct-q4_0.gguf" }]);
    assert.deepEqual(publishedQuantizations(entry("llama-3.2-3b"), "Q4_0"), []);
    // A quantization confirmed only as an `-hf repo:TAG`.
    assert.deepEqual(publishedQuantizations(entry("qwen3-4b"), "Q4_0"), [{ repo: "ggml-org/Qwen3-4B-GGUF" }]);
  });
});
