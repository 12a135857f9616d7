// `slm-lab download` against the local hub: in-process for the command-line contract, and as a real process for
// a kill -9 in the middle of a download followed by the same command again.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { type CliContext } from "../../src/cli/cliCommand";
import { runCli } from "../../src/cli/runCli";
import { fixtureHubRepoSources, startLocalHub, type LocalHub } from "../fixtures/localHub";

const root = path.resolve(__dirname, "..", "..");
const REPO = "slm-lab-fixtures/small-GGUF";
const FILE = "small-Q4_0.gguf";
let hub: LocalHub;
let work = "";

before(async () => {
  hub = await startLocalHub({ repos: await fixtureHubRepoSources([]), tokens: { hf_cli_token_secret: { access: ["slm-lab-fixtures/gated-GGUF"] } } });
  work = mkdtempSync(path.join(os.tmpdir(), "slm-download-cli-"));
});

after(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  hub.clearFaults();
});

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const context: CliContext = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    signal: new AbortController().signal,
    env: { HF_HUB_CACHE: path.join(work, "hf-cache"), ...env },
  };
  const status = await runCli(args, context);
  return { status, stdout, stderr };
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

test("downloads a file into the HF cache and prints its path; --json gives the record", async () => {
  const run = await cli(["download", REPO, FILE, "--endpoint", hub.endpoint]);
  assert.equal(run.status, 0, run.stderr);
  const printed = run.stdout.trim();
  assert.match(printed, /hf-cache\/models--slm-lab-fixtures--small-GGUF\/snapshots\/[0-9a-f]{40}\/small-Q4_0\.gguf$/);
  assert.equal(sha256(printed), hub.file(REPO, FILE).sha256);

  const json = await cli(["download", REPO, FILE, "config.json", "--json", "--dir", path.join(work, "plain")], { HF_ENDPOINT: hub.endpoint });
  assert.equal(json.status, 0, json.stderr);
  const records = JSON.parse(json.stdout) as { file: string; path: string; sha256: string | null; alreadyPresent: boolean }[];
  assert.deepEqual(records.map((record) => record.file), [FILE, "config.json"]);
  assert.equal(records[0]?.sha256, hub.file(REPO, FILE).sha256);
  assert.equal(records[1]?.path, path.join(work, "plain", "config.json"));
});

test("--all downloads a whole snapshot (two at a time) into one snapshot folder", async () => {
  const cache = path.join(work, "all-cache");
  const run = await cli(["download", REPO, "--all", "--endpoint", hub.endpoint], { HF_HUB_CACHE: cache });
  assert.equal(run.status, 0, run.stderr);
  const paths = run.stdout.trim().split("\n");
  const repo = hub.repos.get(REPO);
  assert.equal(paths.length, repo?.files.length);
  const snapshot = path.join(cache, "models--slm-lab-fixtures--small-GGUF", "snapshots", repo?.commit ?? "");
  for (const file of repo?.files ?? []) {
    const local = path.join(snapshot, ...file.path.split("/"));
    assert.ok(paths.includes(local), local);
    assert.equal(sha256(local), file.sha256);
  }
  assert.equal(readFileSync(path.join(cache, "models--slm-lab-fixtures--small-GGUF", "refs", "main"), "utf8"), repo?.commit);
});

test("no file named, not on a terminal: a one-line error listing the repo's GGUF files", async () => {
  const run = await cli(["download", REPO, "--endpoint", hub.endpoint]);
  assert.equal(run.status, 2);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trim().split("\n");
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? "", /^slm-lab: download: name the file\(s\) to download; slm-lab-fixtures\/small-GGUF has 3 GGUF file\(s\): small-Q4_0\.gguf \(3\.00 MiB\), small-Q8_0\.gguf .*sub\/dir\/extra-Q5_1\.gguf/);
});

test("errors are one line: 404, gated without a token, '..' refused; the token never appears", async () => {
  const missing = await cli(["download", REPO, "nope.gguf", "--endpoint", hub.endpoint]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^slm-lab: No such file 'nope\.gguf' in slm-lab-fixtures\/small-GGUF at revision main\..*\n$/);

  const gated = await cli(["download", "slm-lab-fixtures/gated-GGUF", FILE, "--endpoint", hub.endpoint]);
  assert.equal(gated.status, 1);
  assert.match(gated.stderr, /^slm-lab: slm-lab-fixtures\/gated-GGUF is a gated model.*HF_TOKEN.*\n$/);

  const granted = await cli(["download", "slm-lab-fixtures/gated-GGUF", FILE, "--endpoint", hub.endpoint], { HF_TOKEN: "hf_cli_token_secret" });
  assert.equal(granted.status, 0, granted.stderr);
  assert.doesNotMatch(granted.stdout + granted.stderr, /hf_cli_token_secret/);

  const unsafe = await cli(["download", REPO, "../../etc/passwd", "--endpoint", hub.endpoint]);
  assert.equal(unsafe.status, 1);
  assert.match(unsafe.stderr, /^slm-lab: Refusing the file name '\.\.\/\.\.\/etc\/passwd'.*\n$/);

  const usage = await cli(["download"]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /missing <repo>/);
});

/** Runs the real CLI (TypeScript through tsx) as a separate process. */
function spawnCli(args: readonly string[], env: Record<string, string>): { child: ReturnType<typeof spawn>; done: Promise<Run> } {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "src", "cli", "main.ts"), ...args], {
    cwd: root,
    env: { ...process.env, SLM_LAB_DEBUG: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve) => {
    child.on("close", (code, signal) => {
      resolve({ status: code ?? (signal === "SIGKILL" ? 137 : -1), stdout, stderr });
    });
  });
  return { child, done };
}

test("kill -9 in the middle of a download, then the same command again: resumes and completes with a verified file", async () => {
  const cache = path.join(work, "kill-cache");
  const env = { HF_HUB_CACHE: cache, HF_ENDPOINT: hub.endpoint };
  hub.addFault({ stage: "cdn", file: FILE, throttleBytesPerSecond: 1024 * 1024 });
  const startBytes = hub.bytesServed();
  const first = spawnCli(["download", REPO, FILE], env);
  const deadline = Date.now() + 60_000;
  while (hub.bytesServed() - startBytes < 1_200_000) {
    if (Date.now() > deadline) throw new Error("the CLI did not start downloading within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  first.child.kill("SIGKILL");
  const killed = await first.done;
  assert.equal(killed.status, 137);
  const blobs = path.join(cache, "models--slm-lab-fixtures--small-GGUF", "blobs");
  const sha = hub.file(REPO, FILE).sha256;
  const partialSize = statSync(path.join(blobs, `${sha}.incomplete`)).size;
  assert.ok(partialSize > 0, "the partial download survived the kill");
  assert.deepEqual(readdirSync(blobs), [`${sha}.incomplete`], "nothing under the final name");
  // The killed process's lock is left behind; the next run sees its process is gone and takes it over.
  const lock = path.join(cache, ".locks", "models--slm-lab-fixtures--small-GGUF", `${sha}.slm-lab.lock`);
  assert.equal(readFileSync(lock, "utf8").trim(), String(first.child.pid));

  hub.clearFaults();
  const second = await spawnCli(["download", REPO, FILE, "--json"], env).done;
  assert.equal(second.status, 0, second.stderr);
  const record = JSON.parse(second.stdout) as { path: string; resumedFromBytes: number; sha256: string };
  assert.equal(record.resumedFromBytes, partialSize);
  assert.equal(record.sha256, sha);
  assert.equal(sha256(record.path), sha);
  assert.deepEqual(readdirSync(blobs), [sha]);
  assert.ok(!existsSync(lock));
  assert.ok(hub.requests.some((request) => request.range === `bytes=${partialSize}-`));
});
