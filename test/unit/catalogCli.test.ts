// `slm-lab catalog`: in-process through the real dispatcher (runCli), and once through the built bundle
// (bin/slm-lab.cjs → dist/cli.js) to prove the JSON data is bundled.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, test } from "node:test";
import { loadCuratedCatalog } from "../../src/core/catalog/curatedCatalog";
import { runCli } from "../../src/cli/runCli";

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function slmLab(...argv: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const status = await runCli(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    signal: new AbortController().signal,
    env: {},
  });
  return { status, stdout, stderr };
}

const entries = loadCuratedCatalog().entries;

describe("slm-lab catalog", () => {
  test("lists every entry in an aligned table per size class", async () => {
    const run = await slmLab("catalog");
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, "");
    const lines = run.stdout.split("\n");
    const headings = lines.filter((line) => /^(Micro|Small|Medium) \(/.test(line));
    assert.deepEqual(headings.map((line) => line.split(" ")[0]), ["Micro", "Small", "Medium"]);
    assert.match(headings[0] ?? "", /^Micro \(0\.1–1\.4B\): \d+ models$/);
    for (const entry of entries) {
      const row = lines.find((line) => line.startsWith(`  ${entry.id} `));
      assert.ok(row, `a row for ${entry.id}`);
    }
    // Columns line up: in each table, every row's PARAMS and TAGS cells start where the header's do.
    let paramsAt = -1;
    let tagsAt = -1;
    for (const line of lines) {
      if (line.startsWith("  ID ")) {
        paramsAt = line.indexOf("PARAMS");
        tagsAt = line.indexOf("TAGS");
      } else if (/^ {2}[a-z0-9]/.test(line)) {
        assert.ok(paramsAt > 0 && line[paramsAt - 1] === " " && line[paramsAt] !== " ", `PARAMS column of: ${line}`);
        assert.ok(line[tagsAt - 1] === " " && /[a-z]/.test(line[tagsAt] ?? ""), `TAGS column of: ${line}`);
      }
    }
    for (const line of lines) assert.equal(line, line.trimEnd(), "no trailing blanks");
    assert.match(run.stdout, /gemma-3-27b\s+27B\s+128K\s+gemma\s+yes\s+-\s+\d\/6\s+chat,multilingual,vision,long-context/);
  });

  test("--size keeps one class", async () => {
    const run = await slmLab("catalog", "--size", "medium");
    assert.equal(run.status, 0);
    assert.match(run.stdout, /^Medium \(14–30B\): 1 model\n/);
    assert.doesNotMatch(run.stdout, /Micro|Small/);
  });

  test("--tag keeps the entries with every tag; empty size classes are left out", async () => {
    const run = await slmLab("catalog", "--tag", "code,fim", "--size", "MICRO");
    assert.equal(run.status, 0);
    const ids = run.stdout.split("\n").filter((line) => /^ {2}[a-z0-9]/.test(line) && !line.startsWith("  ID")).map((line) => line.trim().split(/\s+/)[0]);
    assert.deepEqual(ids, ["qwen2.5-coder-0.5b", "deepseek-coder-1.3b"]);
    const none = await slmLab("catalog", "--tag", "ternary", "--size", "medium");
    assert.equal(none.status, 0);
    assert.equal(none.stdout, "No model in the catalog matches.\n");
  });

  test("--json prints every field plus the size class and recommended quantizations", async () => {
    const run = await slmLab("catalog", "--tag", "fim", "--json");
    assert.equal(run.status, 0);
    const records = JSON.parse(run.stdout) as { id: string; sizeClass: string; parameters: number; fim: unknown; recommendedQuantizations: { type: string }[]; verification: Record<string, { status: string }> }[];
    assert.equal(records.length, 7);
    for (const record of records) {
      assert.ok(record.fim, record.id);
      assert.ok(["micro", "small", "medium"].includes(record.sizeClass));
      assert.deepEqual(record.recommendedQuantizations.map((choice) => choice.type), ["Q4_0", "Q5_1", "Q8_0"]);
      assert.ok(record.verification["fim"], `${record.id} has a FIM verification record`);
    }
  });

  test("bad options are usage errors (exit 2) on one line", async () => {
    for (const argv of [["catalog", "--size", "huge"], ["catalog", "--tag", "nope"], ["catalog", "extra"], ["catalog", "--tag", ","]]) {
      const run = await slmLab(...argv);
      assert.equal(run.status, 2, argv.join(" "));
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /^slm-lab: catalog: .*Run 'slm-lab help catalog' for usage\.\n$/);
    }
  });

  test("help describes the size classes and tags", async () => {
    const run = await slmLab("help", "catalog");
    assert.equal(run.status, 0);
    assert.match(run.stdout, /Micro 0\.1–1\.4B, Small 1\.5–13\.9B, Medium 14–30B/);
    assert.match(run.stdout, /--tag <tags>/);
    const global = await slmLab("--help");
    assert.match(global.stdout, /^ {2}catalog +List the curated small language models/m);
  });

  test("the built bundle carries the catalog data", () => {
    const root = path.resolve(__dirname, "..", "..");
    const result = spawnSync(process.execPath, [path.join(root, "bin", "slm-lab.cjs"), "catalog", "--size", "micro", "--json"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    const ids = (JSON.parse(result.stdout) as { id: string }[]).map((record) => record.id);
    assert.ok(ids.includes("smollm2-135m") && ids.includes("qwen3-0.6b"));
  });
});
