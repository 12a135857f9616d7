/**
 * Benchmark: download throughput of `downloadHubFile` (sha256 inline, resumable partial, datasync, rename) as a ratio
 * against a raw stream-to-file (`http.get` → `fs.createWriteStream`, no hashing) from the same local hub in the same
 * run, and peak memory (max RSS) of each for two file sizes: flat means independent of the file size. "ours" is the
 * default (durable: fdatasync before the rename, which the raw baseline does not do); "ours/nosync" skips that flush,
 * so it compares like with like.
 *
 * The hub runs in its own process; every download runs in a fresh process that reports its own time and max RSS,
 * in a rotating order, each started after a `sync` so no run pays for the previous one's dirty pages.
 *
 * `--rate` limits the hub's sending rate, as a real network does; unlimited, loopback on a small machine is CPU-bound,
 * so the sha256 (about 1 GB/s on one core) shows fully in the ratio.
 *
 *   npx tsx bench/download.ts [--sizes 64,512] (MiB) [--reps 3] [--rate <MiB/s>] [--dir <folder>] [--keep]
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { downloadHubFile } from "../src/core/hub/hubFileDownload";
import { startLocalHub } from "../test/fixtures/localHub";
import { median } from "./benchNumbers";

const REPO = "slm-lab-bench/data-GGUF";

interface Measurement {
  readonly ms: number;
  readonly maxRssMiB: number;
}

function report(startedAt: number): void {
  const measurement: Measurement = { ms: performance.now() - startedAt, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

/** Child mode: GET with redirects followed by hand, piped straight into a file. */
async function rawDownload(url: string, out: string): Promise<void> {
  const startedAt = performance.now();
  let response = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(url, resolve).on("error", reject));
  while (response.statusCode === 302 && response.headers.location !== undefined) {
    response.resume();
    const next = new URL(response.headers.location, url).toString();
    response = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(next, resolve).on("error", reject));
  }
  await pipeline(response, createWriteStream(out));
  report(startedAt);
}

/** Child mode: our download into a plain folder (durable: flushed to the disk before the rename). */
async function ourDownload(endpoint: string, file: string, dir: string, durable: boolean): Promise<void> {
  const startedAt = performance.now();
  await downloadHubFile({ endpoint, repo: REPO, revision: "main", path: file, targetDir: dir, durable });
  report(startedAt);
}

/** Child mode: serve the data files until killed, at `rate` MiB/s when not 0; prints the endpoint. */
async function serve(rate: number, files: readonly string[]): Promise<void> {
  const hub = await startLocalHub({ repos: [{ id: REPO, files: files.map((file) => ({ path: path.basename(file), diskPath: file })) }] });
  if (rate > 0) hub.addFault({ stage: "cdn", throttleBytesPerSecond: rate * 1024 * 1024 });
  process.stdout.write(`${hub.endpoint}\n`);
}

function runChild(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", __filename, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`bench child ${args[0] ?? ""} exited with ${code ?? "a signal"}`));
    });
  });
}

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  if (existsSync(file) && (await stat(file)).size === bytes) return;
  const stream = createWriteStream(file);
  for (let written = 0; written < bytes; written += 1 << 20) {
    if (!stream.write(randomBytes(Math.min(1 << 20, bytes - written)))) await new Promise<void>((resolve) => stream.once("drain", () => { resolve(); }));
  }
  await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => {
      if (error) reject(error);
      else resolve();
    }));
}

async function main(argv: readonly string[]): Promise<void> {
  const [mode, ...rest] = argv;
  if (mode === "--child-raw") return rawDownload(rest[0] ?? "", rest[1] ?? "");
  if (mode === "--child-ours") return ourDownload(rest[0] ?? "", rest[1] ?? "", rest[2] ?? "", rest[3] === "durable");
  if (mode === "--child-serve") return serve(Number(rest[0]), rest.slice(1));

  let sizes = [64, 512];
  let reps = 3;
  let dir = path.join(os.tmpdir(), "slm-lab-bench");
  let keep = false;
  let rate = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--sizes") sizes = (argv[++i] ?? "").split(",").map(Number);
    else if (arg === "--reps") reps = Number(argv[++i]);
    else if (arg === "--dir") dir = argv[++i] ?? dir;
    else if (arg === "--keep") keep = true;
    else if (arg === "--rate") rate = Number(argv[++i]);
    else throw new Error(`unknown argument ${String(arg)}; usage: bench/download.ts [--sizes 64,512] [--reps 3] [--rate MiB/s] [--dir DIR] [--keep]`);
  }
  if (sizes.some((size) => !Number.isInteger(size) || size < 1) || !Number.isInteger(reps) || reps < 1) throw new Error("--sizes and --reps must be positive integers");

  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const size of sizes) {
    const file = path.join(dir, `data-${size}MiB.bin`);
    process.stderr.write(`writing ${file}\n`);
    await writeRandomFile(file, size * 1024 * 1024);
    files.push(file);
  }

  const server = spawn(process.execPath, ["--import", "tsx", __filename, "--child-serve", String(rate), ...files], { stdio: ["ignore", "pipe", "inherit"] });
  const endpoint = await new Promise<string>((resolve) => server.stdout.once("data", (chunk: Buffer) => { resolve(chunk.toString().trim()); }));
  const outDir = path.join(dir, "out");
  try {
    console.log(
      `download bench: ${os.cpus().length} CPUs, load ${os.loadavg()[0]?.toFixed(1) ?? "?"}, Node ${process.version}, hub ${endpoint}${rate > 0 ? ` limited to ${rate} MiB/s` : " (loopback, unlimited)"}, ${reps} reps each, median`,
    );
    console.log("size      raw MiB/s  ours/nosync MiB/s  ratio  ours(durable) MiB/s  ratio  raw maxRSS  ours maxRSS");
    for (const [index, size] of sizes.entries()) {
      const name = path.basename(files[index] ?? "");
      const raw: Measurement[] = [];
      const fast: Measurement[] = [];
      const ours: Measurement[] = [];
      for (let rep = 0; rep < reps; rep++) {
        await rm(outDir, { recursive: true, force: true });
        await mkdir(outDir, { recursive: true });
        const runs: [Measurement[], string[]][] = [
          [raw, ["--child-raw", `${endpoint}/${REPO}/resolve/main/${name}`, path.join(outDir, name)]],
          [fast, ["--child-ours", endpoint, name, outDir, "nosync"]],
          [ours, ["--child-ours", endpoint, name, outDir, "durable"]],
        ];
        // Rotate the order each rep, and start every run with no dirty pages left by the previous one.
        for (let turn = 0; turn < runs.length; turn++) {
          const [list, args] = runs[(turn + rep) % runs.length] ?? [raw, []];
          await rm(path.join(outDir, name), { force: true });
          spawnSync("sync");
          list.push(JSON.parse(await runChild(args)) as Measurement);
        }
      }
      const rawSpeed = size / (median(raw.map((m) => m.ms)) / 1000);
      const fastSpeed = size / (median(fast.map((m) => m.ms)) / 1000);
      const ourSpeed = size / (median(ours.map((m) => m.ms)) / 1000);
      const rss = (list: readonly Measurement[]): string => `${Math.max(...list.map((m) => m.maxRssMiB)).toFixed(0)} MiB`;
      console.log(
        [
          `${size} MiB`.padEnd(9),
          rawSpeed.toFixed(0).padStart(9),
          fastSpeed.toFixed(0).padStart(17),
          (fastSpeed / rawSpeed).toFixed(2).padStart(5),
          ourSpeed.toFixed(0).padStart(19),
          (ourSpeed / rawSpeed).toFixed(2).padStart(5),
          rss(raw).padStart(10),
          rss([...fast, ...ours]).padStart(11),
        ].join("  "),
      );
    }
  } finally {
    server.kill();
    await rm(outDir, { recursive: true, force: true });
    if (!keep) for (const file of files) await rm(file, { force: true });
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
