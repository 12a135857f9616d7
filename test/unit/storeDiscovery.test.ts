// The model store on real files in temp folders: models directory resolution, discovery, the Hugging Face cache
// layout (symlinks to blobs), split models, corrupt files, and the summary cache.
import assert from "node:assert/strict";
import { copyFile, link, mkdir, mkdtemp, open, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { readGgufSummary } from "../../src/core/gguf/ggufModelSummary";
import { findGgufFiles, isModelFileName } from "../../src/core/store/ggufFileDiscovery";
import { groupShards, parseShardName, shardFileName } from "../../src/core/store/ggufShards";
import { GgufSummaryCache } from "../../src/core/store/ggufSummaryCache";
import { repoIdFromCacheFolder, resolveHuggingFaceHubCache } from "../../src/core/store/huggingFaceCache";
import { scanModelStore } from "../../src/core/store/modelStoreScan";
import { isPathInside, resolveModelsDirectory } from "../../src/core/store/modelsDirectory";
import { ModelsDirectoryError } from "../../src/core/store/storeErrors";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import { tinyGgufBytes, writeHubRepo, writeTinyGguf } from "./storeTestFiles";

let root: string;
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), "slm-lab-store-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function newCache(): GgufSummaryCache {
  return new GgufSummaryCache((file, signal) => readGgufSummary(file, signal === undefined ? {} : { signal }));
}

describe("models directory", () => {
  test("empty setting means the caller's default; ~ expands; relative paths are refused", () => {
    assert.equal(resolveModelsDirectory("", "/var/lib/slm/models", "/home/me"), "/var/lib/slm/models");
    assert.equal(resolveModelsDirectory("   ", "/d", "/home/me"), "/d");
    assert.equal(resolveModelsDirectory("~/models", "/d", "/home/me"), "/home/me/models");
    assert.equal(resolveModelsDirectory("~", "/d", "/home/me"), "/home/me");
    assert.equal(resolveModelsDirectory("/srv/models/", "/d", "/home/me"), "/srv/models/");
    assert.throws(() => resolveModelsDirectory("models", "/d", "/home/me"), (error: unknown) => {
      assert.ok(error instanceof ModelsDirectoryError);
      assert.match(error.message, /"models" is not an absolute path/);
      assert.match(error.toOneLine(), /full path/);
      return true;
    });
  });

  test("isPathInside does not confuse siblings with children", () => {
    assert.equal(isPathInside("/a/b/c.gguf", "/a/b"), true);
    assert.equal(isPathInside("/a/b", "/a/b"), true);
    assert.equal(isPathInside("/a/bc/x.gguf", "/a/b"), false);
    assert.equal(isPathInside("/a/x.gguf", "/a/b"), false);
    assert.equal(isPathInside("/a/b/..x.gguf", "/a/b"), true);
  });
});

describe("discovery", () => {
  test("model file names: .gguf only, never temporary or partial files", () => {
    assert.equal(isModelFileName("qwen2.5-0.5b-q4_k_m.gguf"), true);
    assert.equal(isModelFileName("MODEL.GGUF"), true);
    for (const name of ["model.gguf.partial", "model.gguf.tmp-1a2b", "model.tmp-3.gguf", ".model.gguf", "model.bin", "model.gguf.incomplete", "model.partial.gguf"]) {
      assert.equal(isModelFileName(name), false, name);
    }
  });

  test("finds <publisher>/<repo>/<file>.gguf, skips partial files, hidden folders and what is too deep", async () => {
    const dir = path.join(root, "discover");
    await writeTinyGguf(path.join(dir, "Qwen", "Qwen2.5-GGUF", "a.gguf"));
    await writeTinyGguf(path.join(dir, "top.gguf"));
    await writeFile(path.join(dir, "Qwen", "Qwen2.5-GGUF", "b.gguf.partial"), "half a download");
    await writeFile(path.join(dir, "Qwen", "Qwen2.5-GGUF", "c.gguf.tmp-123abc"), "being written");
    await writeTinyGguf(path.join(dir, ".trash", "old.gguf"));
    await writeTinyGguf(path.join(dir, "1", "2", "3", "4", "5", "deep.gguf"));
    await writeFile(path.join(dir, "notes.txt"), "not a model");
    const { files, problems } = await findGgufFiles(dir, { maxDepth: 4 });
    assert.deepEqual(files.map((file) => file.relativePath), ["Qwen/Qwen2.5-GGUF/a.gguf", "top.gguf"]);
    assert.deepEqual(problems, []);
    const [first] = files;
    assert.ok(first);
    assert.equal(first.size, tinyGgufBytes().byteLength);
    assert.equal(first.error, undefined);
  });

  test("a missing folder is empty, a symlink loop ends, a broken link is reported", async () => {
    assert.deepEqual(await findGgufFiles(path.join(root, "does-not-exist")), { files: [], problems: [] });
    const dir = path.join(root, "loop");
    await mkdir(path.join(dir, "a"), { recursive: true });
    await symlink(dir, path.join(dir, "a", "back-to-top"));
    await writeTinyGguf(path.join(dir, "a", "m.gguf"));
    await symlink(path.join(dir, "gone.bin"), path.join(dir, "broken.gguf"));
    const { files } = await findGgufFiles(dir);
    assert.deepEqual(files.map((file) => file.relativePath), ["a/m.gguf", "broken.gguf"]);
    assert.match(files[1]?.error ?? "", /does not exist/);
  });

  test("stops after maxEntries and says so", async () => {
    const dir = path.join(root, "many");
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < 30; i++) await writeFile(path.join(dir, `f${i}.txt`), "");
    const { problems } = await findGgufFiles(dir, { maxEntries: 10 });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /Stopped looking/);
  });
});

describe("split models", () => {
  test("parses llama.cpp split names", () => {
    assert.deepEqual(parseShardName("qwen-q4_k_m-00002-of-00003.gguf"), { prefix: "qwen-q4_k_m", index: 2, count: 3 });
    assert.equal(parseShardName("qwen-q4_k_m.gguf"), undefined);
    assert.equal(parseShardName("x-00004-of-00003.gguf"), undefined);
    assert.equal(parseShardName("x-00000-of-00003.gguf"), undefined);
    assert.equal(shardFileName("m", 1, 12), "m-00001-of-00012.gguf");
  });

  test("groups parts per folder and names the missing ones", () => {
    const files = ["a/m-00001-of-00003.gguf", "a/m-00003-of-00003.gguf", "b/m-00001-of-00002.gguf", "b/m-00002-of-00002.gguf", "a/single.gguf"].map((relativePath) => ({ relativePath }));
    const groups = groupShards(files);
    const single = groups.find((group) => group.shard === undefined);
    assert.deepEqual(single?.parts.map((part) => part.relativePath), ["a/single.gguf"]);
    const a = groups.find((group) => group.parts[0]?.relativePath === "a/m-00001-of-00003.gguf");
    assert.deepEqual(a?.missing, ["m-00002-of-00003.gguf"]);
    const b = groups.find((group) => group.parts[0]?.relativePath === "b/m-00001-of-00002.gguf");
    assert.ok(b);
    assert.equal(b.parts.length, 2);
    assert.deepEqual(b.missing, []);
  });
});

describe("Hugging Face cache", () => {
  test("resolves the hub folder like huggingface_hub", () => {
    const home = "/home/me";
    assert.equal(resolveHuggingFaceHubCache({}, home), "/home/me/.cache/huggingface/hub");
    assert.equal(resolveHuggingFaceHubCache({ XDG_CACHE_HOME: "/xdg" }, home), "/xdg/huggingface/hub");
    assert.equal(resolveHuggingFaceHubCache({ HF_HOME: "/hf", XDG_CACHE_HOME: "/xdg" }, home), "/hf/hub");
    assert.equal(resolveHuggingFaceHubCache({ HF_HUB_CACHE: "/hub", HF_HOME: "/hf" }, home), "/hub");
    assert.equal(resolveHuggingFaceHubCache({ HUGGINGFACE_HUB_CACHE: "/old", HF_HOME: "/hf" }, home), "/old");
    assert.equal(resolveHuggingFaceHubCache({ HF_HOME: "~/hf" }, home), "/home/me/hf/hub");
    assert.equal(resolveHuggingFaceHubCache({ HF_HUB_CACHE: "" }, home), "/home/me/.cache/huggingface/hub");
  });

  test("repo ids from cache folder names", () => {
    assert.equal(repoIdFromCacheFolder("models--Qwen--Qwen2.5-Coder-0.5B-Instruct-GGUF"), "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF");
    assert.equal(repoIdFromCacheFolder("models--gpt2"), "gpt2");
    assert.equal(repoIdFromCacheFolder("datasets--org--name"), undefined);
    assert.equal(repoIdFromCacheFolder("models--"), undefined);
  });
});

describe("scanModelStore", () => {
  let modelsDir: string;
  let hubDir: string;
  let fixture: string;

  before(async () => {
    modelsDir = path.join(root, "scan", "models");
    hubDir = path.join(root, "scan", "hub");
    fixture = await ensureFixtureModel("tiny-qwen2-coder");
    // A real fixture model in the publisher/repo layout (a hard link where the file system allows: no 86 MB copy).
    await mkdir(path.join(modelsDir, "slm-lab", "tiny-qwen2-coder"), { recursive: true });
    const placed = path.join(modelsDir, "slm-lab", "tiny-qwen2-coder", "tiny-qwen2-coder-F16.gguf");
    await link(fixture, placed).catch(() => copyFile(fixture, placed));
    // A truncated copy: listed with the reader's error, not hidden.
    const handle = await open(fixture, "r");
    const head = Buffer.alloc(4096);
    await handle.read(head, 0, head.byteLength, 0);
    await handle.close();
    await writeFile(path.join(modelsDir, "cut.gguf"), head);
    await writeFile(path.join(modelsDir, "download.gguf.partial"), head);
    // A split model, complete, and one with a part missing.
    const splitMeta = (no: number, count: number, tensors: number): [string, { type: "u16"; value: number } | { type: "i32"; value: number }][] => [
      ["split.no", { type: "u16", value: no }],
      ["split.count", { type: "u16", value: count }],
      ["split.tensors.count", { type: "i32", value: tensors }],
    ];
    await writeTinyGguf(path.join(modelsDir, "split", "big-00001-of-00002.gguf"), { architecture: "qwen2", tensorElements: [8], extraMetadata: splitMeta(0, 2, 2) });
    await writeTinyGguf(path.join(modelsDir, "split", "big-00002-of-00002.gguf"), { noGeneralMetadata: true, tensorElements: [16], extraMetadata: splitMeta(1, 2, 2) });
    await writeTinyGguf(path.join(modelsDir, "split", "half-00001-of-00002.gguf"), { extraMetadata: splitMeta(0, 2, 2) });
    // HF cache: one blob shared by two snapshots (shown once, from main), a second file only in an old snapshot,
    // and a broken link (blob deleted).
    await writeHubRepo(
      hubDir,
      "TheOrg/Tiny-GGUF",
      { aaa111: tinyGgufBytes({ name: "tiny hub", architecture: "phi3" }), bbb222: tinyGgufBytes({ name: "old q8", tensorElements: [32] }) },
      { "0000000old": { "tiny-q4.gguf": "aaa111", "Q8/tiny-q8.gguf": "bbb222" }, "1111111new": { "tiny-q4.gguf": "aaa111" } },
      "1111111new",
    );
    const brokenRepo = await writeHubRepo(hubDir, "Other/Broken-GGUF", {}, {}, "2222222");
    await mkdir(path.join(brokenRepo, "snapshots", "2222222"), { recursive: true });
    await symlink("../../blobs/missing", path.join(brokenRepo, "snapshots", "2222222", "gone.gguf"));
  });

  test("lists the models folder and the HF cache, with summaries and readable errors", async () => {
    const scan = await scanModelStore({ modelsDirectory: modelsDir, huggingFaceCacheDirectory: hubDir, cache: newCache() });
    assert.equal(scan.modelsDirectory.exists, true);
    assert.deepEqual(scan.huggingFaceCache, { path: hubDir, exists: true });
    const labels = scan.models.map((model) => `${model.source}:${model.label}`);
    assert.deepEqual(labels, [
      "models-folder:big.gguf",
      "models-folder:cut.gguf",
      "models-folder:half.gguf",
      "models-folder:tiny-qwen2-coder-F16.gguf",
      "huggingface-cache:Other/Broken-GGUF/gone.gguf",
      "huggingface-cache:TheOrg/Tiny-GGUF/Q8/tiny-q8.gguf",
      "huggingface-cache:TheOrg/Tiny-GGUF/tiny-q4.gguf",
    ]);
    const byLabel = new Map(scan.models.map((model) => [model.label, model]));

    const real = byLabel.get("tiny-qwen2-coder-F16.gguf");
    assert.ok(real?.summary, real?.error);
    assert.equal(real.summary.architecture, "qwen2");
    assert.equal(real.summary.tokenizerPre, "qwen2");
    assert.equal(real.repoId, "slm-lab/tiny-qwen2-coder");
    assert.equal(real.sizeBytes, (await readFile(fixture)).byteLength);
    assert.equal(real.error, undefined);

    const cut = byLabel.get("cut.gguf");
    assert.equal(cut?.summary, undefined);
    assert.match(cut?.error ?? "", /cut\.gguf: .*at byte \d+/);

    const split = byLabel.get("big.gguf");
    assert.ok(split?.summary, split?.error);
    assert.equal(split.partCount, 2);
    assert.equal(split.files.length, 2);
    assert.equal(split.summary.parameterCount, 8 + 16);
    assert.equal(split.summary.tensorCount, 2);
    assert.equal(split.summary.architecture, "qwen2");
    assert.equal(split.summary.bitsPerWeight, 32);
    assert.equal(split.sizeBytes, split.files.reduce((sum, file) => sum + file.size, 0));
    assert.equal(split.summary.fileSize, split.sizeBytes);

    assert.match(byLabel.get("half.gguf")?.error ?? "", /1 of 2 parts missing: half-00002-of-00002\.gguf/);

    const hub = byLabel.get("TheOrg/Tiny-GGUF/tiny-q4.gguf");
    assert.ok(hub?.summary, hub?.error);
    assert.equal(hub.revision, "1111111new", "of two snapshots sharing a blob, the one on main is shown");
    assert.equal(hub.repoId, "TheOrg/Tiny-GGUF");
    assert.equal(hub.summary.architecture, "phi3");
    assert.match(hub.path, /snapshots[\\/]1111111new[\\/]tiny-q4\.gguf$/);
    assert.match(hub.files[0]?.realPath ?? "", /blobs[\\/]aaa111$/);
    assert.equal(byLabel.get("TheOrg/Tiny-GGUF/Q8/tiny-q8.gguf")?.revision, "0000000old");
    assert.match(byLabel.get("Other/Broken-GGUF/gone.gguf")?.error ?? "", /does not exist/);
  });

  test("a file reachable from both places is listed once, in the models folder", async () => {
    const blob = path.join(hubDir, "models--TheOrg--Tiny-GGUF", "blobs", "aaa111");
    const alias = path.join(modelsDir, "alias.gguf");
    await symlink(blob, alias);
    try {
      const scan = await scanModelStore({ modelsDirectory: modelsDir, huggingFaceCacheDirectory: hubDir, cache: newCache() });
      const matches = scan.models.filter((model) => model.files.some((file) => file.realPath === blob));
      assert.deepEqual(matches.map((model) => `${model.source}:${model.label}`), ["models-folder:alias.gguf"]);
    } finally {
      await rm(alias);
    }
  });

  test("no HF cache when it is off; a missing models folder is reported as missing", async () => {
    const scan = await scanModelStore({ modelsDirectory: path.join(root, "nowhere"), huggingFaceCacheDirectory: undefined, cache: newCache() });
    assert.deepEqual(scan.models, []);
    assert.equal(scan.modelsDirectory.exists, false);
    assert.equal(scan.huggingFaceCache, undefined);
  });

  test("unchanged files are never parsed twice; a changed file is parsed again", async () => {
    const dir = path.join(root, "cache-test");
    await writeTinyGguf(path.join(dir, "one.gguf"), { name: "one" });
    await writeTinyGguf(path.join(dir, "two.gguf"), { name: "two" });
    const cache = newCache();
    const scan = (): ReturnType<typeof scanModelStore> => scanModelStore({ modelsDirectory: dir, huggingFaceCacheDirectory: undefined, cache });
    await scan();
    assert.equal(cache.parses, 2);
    await scan();
    assert.equal(cache.parses, 2, "a second scan of unchanged files parses nothing");
    await writeTinyGguf(path.join(dir, "two.gguf"), { name: "two, rewritten", tensorElements: [12] });
    const later = new Date(Date.now() + 5000);
    await utimes(path.join(dir, "two.gguf"), later, later);
    const third = await scan();
    assert.equal(cache.parses, 3);
    assert.equal(third.models.find((model) => model.label === "two.gguf")?.summary?.name, "two, rewritten");

    // Saved and loaded in a new session: still nothing to parse.
    const saved = path.join(root, "cache-test-state", "summaries.json");
    await cache.save(saved);
    const next = newCache();
    await next.load(saved);
    await scanModelStore({ modelsDirectory: dir, huggingFaceCacheDirectory: undefined, cache: next });
    assert.equal(next.parses, 0);
    // A corrupt cache file is ignored, not fatal.
    await writeFile(saved, "{ not json");
    const fresh = newCache();
    await fresh.load(saved);
    await scanModelStore({ modelsDirectory: dir, huggingFaceCacheDirectory: undefined, cache: fresh });
    assert.equal(fresh.parses, 2);
  });

  test("a corrupt file keeps its cached error until it changes, then reads fine", async () => {
    const dir = path.join(root, "corrupt-then-fixed");
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, "m.gguf");
    await writeFile(file, Buffer.from("GGUF but not really"));
    const cache = newCache();
    const first = await scanModelStore({ modelsDirectory: dir, huggingFaceCacheDirectory: undefined, cache });
    assert.ok(first.models[0]?.error);
    await scanModelStore({ modelsDirectory: dir, huggingFaceCacheDirectory: undefined, cache });
    assert.equal(cache.parses, 1);
    await copyFile(path.join(modelsDir, "split", "big-00001-of-00002.gguf"), file);
    const later = new Date(Date.now() + 10_000);
    await utimes(file, later, later);
    const fixed = await scanModelStore({ modelsDirectory: dir, huggingFaceCacheDirectory: undefined, cache });
    assert.equal(fixed.models[0]?.error, undefined);
    assert.equal(fixed.models[0]?.summary?.architecture, "qwen2");
  });

  test("cancellation stops a scan", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(scanModelStore({ modelsDirectory: modelsDir, huggingFaceCacheDirectory: hubDir, cache: newCache(), signal: controller.signal }), { name: "CancelledError" });
  });
});
