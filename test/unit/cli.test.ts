// The real `slm-lab` command: bin/slm-lab.cjs → the esbuild bundle dist/cli.js, spawned as a user would run it, on
// GGUF files written by our own writer (and one fixture model with a real tokenizer).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import { encodeGguf } from "../../src/core/gguf/ggufWriter";
import { type GgufValue } from "../../src/core/gguf/ggufTypes";
import { ensureFixtureModel } from "../fixtures/fixtureModels";

const root = path.resolve(__dirname, "..", "..");
const bin = path.join(root, "bin", "slm-lab.cjs");
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };

let folder = "";
let modelPath = "";
let secondModelPath = "";

interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function slmLab(args: readonly string[], env: Readonly<Record<string, string>> = {}): CliRun {
  const { SLM_LAB_DEBUG: _ignored, ...baseEnv } = process.env;
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: folder, encoding: "utf8", timeout: 60_000, env: { ...baseEnv, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The failure contract: the exit code, nothing on stdout, exactly one `slm-lab: …` line on stderr, no stack. */
function assertOneLineError(run: CliRun, exitCode: number, message: RegExp): void {
  assert.equal(run.status, exitCode, `exit code; stderr: ${run.stderr}`);
  assert.equal(run.stdout, "");
  const lines = run.stderr.split("\n").filter((line) => line !== "");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0] ?? "", /^slm-lab: /);
  assert.match(lines[0] ?? "", message);
  assert.doesNotMatch(run.stderr, /^\s+at /m);
}

const string = (value: string): GgufValue => ({ type: "string", value });
const u32 = (value: number): GgufValue => ({ type: "u32", value });

/** A small qwen2-like model: 10-token BPE vocabulary, an F32 embedding (64×10) and one Q8_0 matrix (64×64). */
function tinyModel(name: string): Uint8Array {
  const q8Bytes = (64 * 64 / 32) * 34; // Q8_0: blocks of 32 weights, 2-byte scale + 32 bytes
  return encodeGguf({
    metadata: new Map<string, GgufValue>([
      ["general.architecture", string("qwen2")],
      ["general.name", string(name)],
      ["general.file_type", u32(7)], // LLAMA_FTYPE_MOSTLY_Q8_0
      ["qwen2.context_length", u32(4096)],
      ["qwen2.embedding_length", u32(64)],
      ["qwen2.block_count", u32(1)],
      ["qwen2.feed_forward_length", u32(4864)],
      ["qwen2.attention.head_count", u32(14)],
      ["qwen2.attention.head_count_kv", u32(2)],
      ["tokenizer.ggml.model", string("gpt2")],
      ["tokenizer.ggml.pre", string("qwen2")],
      ["tokenizer.ggml.tokens", { type: "array", itemType: "string", values: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] }],
    ]),
    tensors: [
      { name: "token_embd.weight", dims: [64, 10], ggmlType: GgmlType.F32, data: new Uint8Array(64 * 10 * 4) },
      { name: "blk.0.attn_q.weight", dims: [64, 64], ggmlType: GgmlType.Q8_0, data: new Uint8Array(q8Bytes) },
    ],
  });
}

before(() => {
  // Test what ships: build the bundles the way `npm run build` does, then run the bin.
  const build = spawnSync(process.execPath, ["esbuild.mjs"], { cwd: root, encoding: "utf8", timeout: 300_000 });
  assert.equal(build.status, 0, `node esbuild.mjs failed:\n${build.stdout}${build.stderr}`);
  folder = mkdtempSync(path.join(os.tmpdir(), "slm-lab-cli-"));
  modelPath = path.join(folder, "tiny-qwen2.gguf");
  secondModelPath = path.join(folder, "second.gguf");
  writeFileSync(modelPath, tinyModel("Tiny Qwen2"));
  writeFileSync(secondModelPath, tinyModel("Second"));
});

after(() => {
  if (folder !== "") rmSync(folder, { recursive: true, force: true });
});

test("--version prints the package version", () => {
  for (const flag of ["--version", "-V"]) {
    const run = slmLab([flag]);
    assert.equal(run.status, 0);
    assert.equal(run.stdout, `${version}\n`);
    assert.equal(run.stderr, "");
  }
});

test("--help lists the commands; help info and info --help show the command's usage", () => {
  const help = slmLab(["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: slm-lab <command>/m);
  assert.match(help.stdout, /^ {2}info {2,}Show what a GGUF model is/m);
  for (const args of [["help", "info"], ["info", "--help"], ["info", "-h"]]) {
    const run = slmLab(args);
    assert.equal(run.status, 0, args.join(" "));
    assert.match(run.stdout, /^Usage: slm-lab info <file\.gguf>\.\.\. \[--json\]$/m);
    assert.match(run.stdout, /--json {2,}Print JSON/);
  }
});

test("info prints the model's facts as aligned rows", () => {
  const run = slmLab(["info", "tiny-qwen2.gguf"]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, "");
  const [title, ...rows] = run.stdout.trimEnd().split("\n");
  assert.equal(title, "tiny-qwen2.gguf");
  const facts = new Map(rows.map((row) => {
    const match = /^ {2}(\S+(?: \S+)*) {2,}(.+)$/.exec(row);
    assert.ok(match, `row layout: ${JSON.stringify(row)}`);
    return [match[1] ?? "", match[2] ?? ""] as const;
  }));
  const fileSize = statSync(modelPath).size;
  assert.match(facts.get("Size on disk") ?? "", new RegExp(`^\\d+(\\.\\d+)? KiB \\(${fileSize.toLocaleString("en-US")} bytes\\)$`));
  facts.delete("Size on disk");
  assert.deepEqual(Object.fromEntries(facts), {
    Architecture: "qwen2",
    Name: "Tiny Qwen2",
    Parameters: "4.74K (4,736)",
    "File type": "Q8_0",
    // (64·10·32 bits + 4096·8.5 bits) / 4,736 weights
    "Bits per weight": ((640 * 32 + 4096 * 8.5) / 4736).toFixed(2),
    Tensors: "2",
    "Context length": "4,096 tokens",
    Vocabulary: "10 tokens",
    Tokenizer: "gpt2 (pre: qwen2)",
    "GGUF version": "3",
    Layers: "1",
    "Embedding width": "64",
    "Feed-forward width": "4,864",
    "Attention heads": "14",
    "KV heads": "2",
  });
  // Every value starts in the same column.
  const columns = new Set(rows.map((row) => /^ {2}\S+(?: \S+)* +/.exec(row)?.[0].length));
  assert.equal(columns.size, 1, run.stdout);
});

test("info --json prints the summary with stable keys", () => {
  const run = slmLab(["info", "--json", modelPath]);
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(summary), [
    "path", "architecture", "name", "parameterCount", "fileType", "bitsPerWeight", "tensorCount", "contextLength",
    "vocabularySize", "tokenizerModel", "tokenizerPre", "embeddingLength", "blockCount", "headCount", "headCountKv",
    "feedForwardLength", "fileSize", "ggufVersion",
  ]);
  assert.deepEqual({ ...summary, bitsPerWeight: undefined }, {
    path: modelPath,
    architecture: "qwen2",
    name: "Tiny Qwen2",
    parameterCount: 4736,
    fileType: "Q8_0",
    bitsPerWeight: undefined,
    tensorCount: 2,
    contextLength: 4096,
    vocabularySize: 10,
    tokenizerModel: "gpt2",
    tokenizerPre: "qwen2",
    embeddingLength: 64,
    blockCount: 1,
    headCount: 14,
    headCountKv: 2,
    feedForwardLength: 4864,
    fileSize: statSync(modelPath).size,
    ggufVersion: 3,
  });
  assert.ok(Math.abs((summary["bitsPerWeight"] as number) - (640 * 32 + 4096 * 8.5) / 4736) < 1e-9);
});

test("several files: each in turn as text, an array as JSON", () => {
  const text = slmLab(["info", "tiny-qwen2.gguf", "second.gguf"]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^tiny-qwen2\.gguf\n(?: {2}.+\n)+\nsecond\.gguf\n(?: {2}.+\n)+$/);
  assert.match(text.stdout, /Name +Tiny Qwen2\n[\s\S]*Name +Second\n/);

  const json = slmLab(["info", "tiny-qwen2.gguf", "--json", "second.gguf"]);
  assert.equal(json.status, 0, json.stderr);
  const summaries = JSON.parse(json.stdout) as { name: string }[];
  assert.deepEqual(summaries.map((summary) => summary.name), ["Tiny Qwen2", "Second"]);
});

test("a missing file: exit 1, one line", () => {
  assertOneLineError(slmLab(["info", "nope.gguf"]), 1, /nope\.gguf: no such file/);
});

test("a directory: exit 1, one line", () => {
  assertOneLineError(slmLab(["info", "."]), 1, /is a directory/);
});

test("a text file: exit 1, one line saying it is not a GGUF model", () => {
  writeFileSync(path.join(folder, "notes.txt"), "just some notes, not a model\n");
  assertOneLineError(slmLab(["info", "notes.txt"]), 1, /notes\.txt.*not a GGUF/);
});

test("a truncated GGUF: exit 1, one line naming the file and the offset", () => {
  const whole = readFileSync(modelPath);
  for (const length of [3, 20, Math.floor(whole.length / 8), Math.floor(whole.length / 2)]) {
    writeFileSync(path.join(folder, "truncated.gguf"), whole.subarray(0, length));
    assertOneLineError(slmLab(["info", "truncated.gguf"]), 1, /truncated\.gguf: .*byte \d+/);
  }
});

test("usage errors: exit 2, one line", () => {
  assertOneLineError(slmLab([]), 2, /missing command.*slm-lab --help/);
  assertOneLineError(slmLab(["info"]), 2, /missing <file\.gguf>.*slm-lab help info/);
  assertOneLineError(slmLab(["info", "--frobnicate", modelPath]), 2, /unknown option '--frobnicate'.*slm-lab help info/);
  assertOneLineError(slmLab(["info", "--json=yes", modelPath]), 2, /'--json' takes no value/);
  assertOneLineError(slmLab(["--frobnicate"]), 2, /unknown option '--frobnicate'/);
  assertOneLineError(slmLab(["frobnicate"]), 2, /unknown command 'frobnicate'/);
  assertOneLineError(slmLab(["help", "frobnicate"]), 2, /unknown command 'frobnicate'/);
});

test("good and bad files together: the good ones are shown, each bad one is a line, exit 1", () => {
  const run = slmLab(["info", "--json", "tiny-qwen2.gguf", "nope.gguf", "second.gguf"]);
  assert.equal(run.status, 1);
  assert.deepEqual((JSON.parse(run.stdout) as { name: string }[]).map((summary) => summary.name), ["Tiny Qwen2", "Second"]);
  assert.match(run.stderr, /^slm-lab: nope\.gguf: no such file\.[^\n]*\n$/);
});

test("SLM_LAB_DEBUG=1 adds the stack trace", () => {
  const run = slmLab(["info", "notes.txt"], { SLM_LAB_DEBUG: "1" });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^slm-lab: .*\n/);
  assert.match(run.stderr, /^\s+at /m);
});

test("a fixture model with a real Qwen2 tokenizer", async () => {
  const fixture = await ensureFixtureModel("tiny-qwen2-coder");
  const run = slmLab(["info", "--json", fixture]);
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as Record<string, unknown>;
  assert.equal(summary["architecture"], "qwen2");
  assert.equal(summary["tokenizerModel"], "gpt2");
  assert.equal(summary["tokenizerPre"], "qwen2");
  assert.equal(typeof summary["vocabularySize"], "number");
  assert.ok((summary["vocabularySize"] as number) > 150_000, `vocabulary ${String(summary["vocabularySize"])}`);
  assert.ok((summary["parameterCount"] as number) > 0);
  assert.equal(summary["fileSize"], statSync(fixture).size);
});
