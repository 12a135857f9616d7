// The catalog's load-time schema check: broken data is refused with a UserError naming every problem by JSON path,
// and the size classes' bounds are exact.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CatalogFormatError, parseCuratedCatalog } from "../../src/core/catalog/catalogValidation";
import curatedModelsJson from "../../src/core/catalog/curatedModels.json";
import { UserError } from "../../src/core/errors";
import { isSizeClass, sizeClassOf } from "../../src/core/catalog/sizeClasses";
import { formatParameterCount } from "../../src/core/format/humanUnits";

type Json = Record<string, unknown>;

/** A deep copy of the bundled catalog data, as plain JSON to break on purpose. */
function catalogData(): Json {
  return JSON.parse(JSON.stringify(curatedModelsJson)) as Json;
}

function entriesOf(data: Json): Json[] {
  return data["entries"] as Json[];
}

function firstEntry(data: Json): Json {
  const first = entriesOf(data)[0];
  assert.ok(first);
  return first;
}

function problemsOf(data: unknown): readonly string[] {
  try {
    parseCuratedCatalog(data, "test.json");
  } catch (error: unknown) {
    assert.ok(error instanceof CatalogFormatError, `expected a CatalogFormatError, got ${String(error)}`);
    assert.ok(error instanceof UserError);
    assert.match(error.message, /^test\.json is not a valid model catalog: /);
    return error.problems;
  }
  assert.fail("the data was accepted");
}

function assertProblem(data: unknown, pattern: RegExp): void {
  const problems = problemsOf(data);
  assert.ok(problems.some((problem) => pattern.test(problem)), `no problem matches ${String(pattern)}:\n${problems.join("\n")}`);
}

describe("parseCuratedCatalog", () => {
  test("accepts the bundled data", () => {
    const catalog = parseCuratedCatalog(catalogData(), "test.json");
    assert.ok(catalog.entries.length >= 23);
  });

  test("refuses non-objects and wrong schema versions", () => {
    assertProblem(null, /^\$: expected an object, got null/);
    assertProblem([], /^\$: expected an object, got an array/);
    const data = catalogData();
    data["schemaVersion"] = 2;
    assertProblem(data, /^\$\.schemaVersion: expected 1, got 2/);
  });

  test("refuses duplicate ids", () => {
    const data = catalogData();
    const entries = entriesOf(data);
    entries.push(JSON.parse(JSON.stringify(entries[0])) as Json);
    assertProblem(data, new RegExp(`^\\$\\.entries\\[${entries.length - 1}\\]\\.id: duplicate id "qwen3-0\\.6b" \\(first at \\$\\.entries\\[0\\]\\)`));
  });

  test("refuses parameter counts outside every size class, and non-numbers", () => {
    const data = catalogData();
    firstEntry(data)["parameters"] = 70e9;
    assertProblem(data, /\$\.entries\[0\]\.parameters: 70000000000 is outside every size class \(0\.1B to 30B\)/);
    firstEntry(data)["parameters"] = "0.6B";
    assertProblem(data, /\$\.entries\[0\]\.parameters: expected a positive integer, got "0\.6B"/);
  });

  test("refuses unknown properties (a typo must not drop a fact)", () => {
    const data = catalogData();
    firstEntry(data)["contextLenght"] = 4096;
    assertProblem(data, /\$\.entries\[0\]\.contextLenght: unknown property/);
  });

  test("an unverified fact must say what is unknown; other facts must cite a source", () => {
    const data = catalogData();
    const verification = firstEntry(data)["verification"] as Record<string, Json>;
    verification["license"] = { status: "unverified", sources: [] };
    assertProblem(data, /\$\.entries\[0\]\.verification\.license\.note: an unverified fact needs a note/);
    verification["license"] = { status: "verified", sources: [] };
    assertProblem(data, /\$\.entries\[0\]\.verification\.license\.sources: a verified fact needs at least one source/);
    verification["license"] = { status: "probably", sources: ["https://example.org/x"] };
    assertProblem(data, /verification\.license\.status: expected one of verified, secondary, unverified/);
    delete verification["gated"];
    assertProblem(data, /\$\.entries\[0\]\.verification: missing "gated"/);
  });

  test("the fim tag and the FIM tokens go together", () => {
    const data = catalogData();
    const entry = firstEntry(data);
    entry["tags"] = [...(entry["tags"] as string[]), "fim"];
    assertProblem(data, /\$\.entries\[0\]\.fim: the "fim" tag needs the FIM tokens/);
    assertProblem(data, /\$\.entries\[0\]\.verification: missing "fim"/);
  });

  test("checks tags, repo ids, GGUF file names and quantization names", () => {
    const data = catalogData();
    const entry = firstEntry(data);
    entry["tags"] = ["chat", "chat"];
    const repositories = entry["repositories"] as Json;
    repositories["safetensors"] = "not a repo id";
    const gguf = (repositories["gguf"] as Json[])[0];
    assert.ok(gguf);
    gguf["files"] = ["../escape.gguf"];
    gguf["quantTags"] = ["Q4_X"];
    const problems = problemsOf(data);
    assert.ok(problems.some((problem) => problem.includes('tags: tag "chat" appears twice')));
    assert.ok(problems.some((problem) => problem.includes('repositories.safetensors: expected a Hugging Face repo id')));
    assert.ok(problems.some((problem) => problem.includes('gguf[0].files[0]: expected a .gguf file name without folders')));
    assert.ok(problems.some((problem) => problem.includes('gguf[0].quantTags[0]: "Q4_X" is not a llama.cpp file type')));
  });

  test("a Foundry Local listing needs its alias", () => {
    const data = catalogData();
    firstEntry(data)["availability"] = { azureAiFoundry: "unknown", foundryLocal: "listed" };
    assertProblem(data, /availability\.foundryLocalAlias: a model listed in Foundry Local needs its alias/);
  });

  test("reports every problem, and counts them in the message", () => {
    const data = catalogData();
    firstEntry(data)["goodFor"] = "";
    firstEntry(data)["contextLength"] = -1;
    try {
      parseCuratedCatalog(data, "test.json");
      assert.fail("accepted");
    } catch (error: unknown) {
      assert.ok(error instanceof CatalogFormatError);
      assert.equal(error.problems.length, 2);
      assert.match(error.message, /\(and 1 more problem\)$/);
    }
  });
});

describe("size classes", () => {
  test("bounds: Micro 0.1–1.4B, Small 1.5–13.9B, Medium 14–30B", () => {
    assert.equal(sizeClassOf(0.1e9), "micro");
    assert.equal(sizeClassOf(135e6), "micro");
    assert.equal(sizeClassOf(1.45e9), "micro");
    assert.equal(sizeClassOf(1.5e9), "small");
    assert.equal(sizeClassOf(13.99e9), "small");
    assert.equal(sizeClassOf(14e9), "medium");
    assert.equal(sizeClassOf(30e9), "medium");
    assert.equal(sizeClassOf(30.1e9), undefined);
    assert.equal(sizeClassOf(0.09e9), undefined);
    assert.equal(sizeClassOf(Number.NaN), undefined);
    assert.ok(isSizeClass("small"));
    assert.ok(!isSizeClass("large"));
  });

  test("parameter counts read like model cards", () => {
    assert.equal(formatParameterCount(135e6), "135M");
    assert.equal(formatParameterCount(1.54e9), "1.54B");
    assert.equal(formatParameterCount(27e9), "27B");
  });
});
