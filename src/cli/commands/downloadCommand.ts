/**
 * `slm-lab download <repo> [file…]`: resumable, verified downloads from the Hugging Face Hub (or a mirror) into the
 * Hugging Face cache, so Python tools share them, or into a folder with `--dir`.
 */
import readline from "node:readline/promises";
import { CancelledError, UserError, throwIfAborted } from "../../core/errors";
import { formatBytes } from "../../core/format/humanUnits";
import { type DownloadProgress } from "../../core/hub/downloadProgress";
import { DownloadQueue } from "../../core/hub/downloadQueue";
import { downloadHubFile, type DownloadedHubFile } from "../../core/hub/hubFileDownload";
import { isGgufFileName, listHubRepoFiles, type HubRepoFile } from "../../core/hub/hubRepoFiles";
import { resolveHuggingFaceHubCache } from "../../core/store/huggingFaceCache";
import { type CliCommand, type CliContext } from "../cliCommand";
import { ExitCode, reportFailure } from "../cliFailure";
import { CliUsageError } from "../cliUsageError";

const DEFAULT_ENDPOINT = "https://huggingface.co";

/** One progress line: "small-Q4_0.gguf  42%  1.3 MiB / 3.0 MiB  5.2 MiB/s  ETA 1s". */
function progressLine(progress: DownloadProgress): string {
  const name = progress.path.split("/").pop() ?? progress.path;
  const percent = progress.totalBytes > 0 ? Math.floor((progress.receivedBytes / progress.totalBytes) * 100) : 100;
  const phase = progress.phase === "checking" ? "checking partial" : progress.phase === "verifying" ? "verifying" : "";
  const speed = progress.bytesPerSecond > 0 ? `${formatBytes(progress.bytesPerSecond)}/s` : "";
  const eta = progress.etaSeconds === undefined ? "" : `ETA ${formatDuration(progress.etaSeconds)}`;
  return [name, `${percent}%`, `${formatBytes(progress.receivedBytes)} / ${formatBytes(progress.totalBytes)}`, speed, eta, phase].filter((part) => part !== "").join("  ");
}

function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
}

/** Asks on the terminal which GGUF files to download; returns their paths. */
async function pickFiles(files: readonly HubRepoFile[], context: CliContext): Promise<string[]> {
  context.stderr(`GGUF files in the repo:\n${files.map((file, index) => `  ${index + 1}) ${file.path}  (${formatBytes(file.size)})`).join("\n")}\n`);
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question("Download which? (numbers separated by spaces, or 'all'): ", { signal: context.signal });
    if (answer.trim().toLowerCase() === "all") return files.map((file) => file.path);
    const picked = answer
      .split(/[\s,]+/)
      .filter((part) => part !== "")
      .map((part) => files[Number(part) - 1]?.path);
    if (picked.length === 0 || picked.some((file) => file === undefined)) throw new CliUsageError(`'${answer.trim()}' is not a list of numbers from 1 to ${files.length}.`, "slm-lab help download");
    return picked.filter((file): file is string => file !== undefined);
  } catch (error) {
    if ((error as Error).name === "AbortError") throw new CancelledError();
    throw error;
  } finally {
    prompt.close();
  }
}

function resultJson(result: DownloadedHubFile): Record<string, unknown> {
  return {
    repo: result.repo,
    revision: result.revision,
    commit: result.commit,
    file: result.file,
    path: result.localPath,
    blob: result.blobPath,
    size: result.size,
    sha256: result.sha256 ?? null,
    etag: result.etag,
    resumedFromBytes: result.resumedFromBytes,
    alreadyPresent: result.alreadyPresent,
  };
}

export const downloadCommand: CliCommand = {
  name: "download",
  summary: "Download model files from Hugging Face: resumable, verified by sha256, into the shared HF cache.",
  usage: "download <repo> [file...] [--revision R] [--dir D] [--endpoint URL] [--all] [--json]",
  description: [
    "Downloads files of a Hugging Face model repo (e.g. a GGUF quantization) and verifies each against the size and",
    "sha256 the Hub publishes. Without --dir, files land in the Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub or",
    "~/.cache/huggingface/hub) in its usual layout, so Python tools (transformers, llama-cpp-python) find them too.",
    "An interrupted download (network drop, Ctrl+C, a crash) resumes where it stopped when run again.",
    "Without a file name, the repo's GGUF files are listed to pick from (on a terminal) or shown in the error.",
    "The access token for gated and private repos is read from HF_TOKEN; it is never printed.",
    "The endpoint is --endpoint, else $HF_ENDPOINT, else https://huggingface.co.",
    "Prints the local path of each file on stdout (JSON with --json); progress goes to stderr on a terminal.",
  ].join("\n"),
  options: [
    { name: "revision", kind: "value", valueName: "R", description: "Branch, tag or commit (default: main)." },
    { name: "dir", kind: "value", valueName: "D", description: "Download into this folder instead of the Hugging Face cache." },
    { name: "endpoint", kind: "value", valueName: "URL", description: "Hub endpoint or mirror (default: $HF_ENDPOINT or https://huggingface.co)." },
    { name: "all", kind: "flag", description: "Download every file of the repo (a whole safetensors snapshot)." },
    { name: "json", kind: "flag", description: "Print one JSON object per file (an array when several)." },
  ],
  examples: [
    "slm-lab download Qwen/Qwen2.5-0.5B-Instruct-GGUF qwen2.5-0.5b-instruct-q4_0.gguf",
    "slm-lab download bartowski/Llama-3.2-1B-Instruct-GGUF --dir ./models",
    "HF_TOKEN=hf_... slm-lab download google/gemma-3-1b-it --all",
  ],

  async run(args, context) {
    const [repo, ...requested] = args.positionals;
    if (repo === undefined) throw new CliUsageError("download: missing <repo>.", "slm-lab help download");
    const revision = args.value("revision") ?? "main";
    const endpoint = (args.value("endpoint") ?? context.env["HF_ENDPOINT"] ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(endpoint)) throw new CliUsageError(`--endpoint must be an http(s) URL, not '${endpoint}'.`, "slm-lab help download");
    const tokenValue = context.env["HF_TOKEN"];
    const token = tokenValue === undefined || tokenValue === "" ? undefined : tokenValue;
    const json = args.flag("json");
    const dir = args.value("dir");
    const target = dir === undefined ? { cacheDir: resolveHuggingFaceHubCache(context.env) } : { targetDir: dir };

    let files = requested;
    if (args.flag("all") && files.length > 0) throw new CliUsageError("give either file names or --all, not both.", "slm-lab help download");
    if (files.length === 0) {
      const listed = await listHubRepoFiles({ endpoint, repo, revision, token, signal: context.signal });
      if (args.flag("all")) {
        files = listed.map((file) => file.path);
      } else {
        const ggufFiles = listed.filter((file) => isGgufFileName(file.path));
        if (ggufFiles.length === 0) {
          throw new UserError(`${repo} has no GGUF files.`, { action: `Name the files to download, or use --all for the whole repo (${listed.length} files).` });
        }
        const interactive = process.stdin.isTTY && process.stderr.isTTY && !json;
        if (!interactive) {
          throw new CliUsageError(
            `download: name the file(s) to download; ${repo} has ${ggufFiles.length} GGUF file(s): ${ggufFiles.map((file) => `${file.path} (${formatBytes(file.size)})`).join(", ")}.`,
            "slm-lab help download",
          );
        }
        files = await pickFiles(ggufFiles, context);
      }
    }

    // Progress only for a person at a terminal; scripts get the paths (or JSON) on stdout and errors on stderr.
    const showProgress = process.stderr.isTTY;
    // One status line for all running downloads (they share the terminal line), redrawn in place; a finished file
    // leaves a permanent line.
    const active = new Map<string, DownloadProgress>();
    let lastLine = "";
    const render = (progress: DownloadProgress): void => {
      if (progress.phase === "done") {
        active.delete(progress.path);
        context.stderr(`\r\x1b[2K${progress.path}  ${formatBytes(progress.totalBytes)}  verified\n`);
        // The next report redraws the line; until then the cursor stays at the start of an empty line, where the
        // path printed on stdout goes.
        lastLine = "";
        return;
      } else {
        active.set(progress.path, progress);
      }
      const line = [...active.values()].map(progressLine).join("  |  ").slice(0, Math.max(20, (process.stderr.columns || 80) - 1));
      if (line === lastLine) return;
      lastLine = line;
      context.stderr(`\r\x1b[2K${line}`);
    };
    const queue = new DownloadQueue(2);
    const results: DownloadedHubFile[] = [];
    let exitCode: number = ExitCode.ok;
    await Promise.all(
      files.map((file) =>
        queue
          .add(async () => {
            throwIfAborted(context.signal);
            const result = await downloadHubFile({
              endpoint,
              repo,
              revision,
              path: file,
              token,
              signal: context.signal,
              ...target,
              onProgress: (progress) => {
                if (showProgress) render(progress);
              },
            });
            results.push(result);
            if (!json) context.stdout(`${result.localPath}\n`);
          }, context.signal)
          .catch((error: unknown) => {
            if (error instanceof CancelledError) throw error;
            if (showProgress) {
              active.delete(file);
              context.stderr("\r\x1b[2K");
            }
            exitCode = Math.max(exitCode, reportFailure(error, context));
          }),
      ),
    );
    if (json && results.length > 0) {
      const records = results.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file)).map(resultJson);
      context.stdout(`${JSON.stringify(files.length === 1 ? records[0] : records, null, 2)}\n`);
    }
    return exitCode;
  },
};
