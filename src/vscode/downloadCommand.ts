/**
 * "SLM Lab: Download Model": a repo id (prefilled from a Catalog entry's GGUF repo), the repo's GGUF files from
 * `slmLab.hubEndpoint` in a quick pick (sizes, recommended quantizations marked), then the core downloader into the
 * Hugging Face cache under a cancellable progress notification; My Models is rescanned when it is done.
 * Programmatic callers (tests) pass `{ repo, files }` and get one outcome per file.
 */

import * as vscode from "vscode";
import type { CatalogEntry } from "../core/catalog/catalogTypes";
import { STANDARD_PRESETS, recommendedQuantizations } from "../core/catalog/recommendedQuantizations";
import { CancelledError, describeError } from "../core/errors";
import { formatBytes } from "../core/format/humanUnits";
import type { DownloadProgress } from "../core/hub/downloadProgress";
import { HubAccessError } from "../core/hub/hubErrors";
import { downloadHubFile } from "../core/hub/hubFileDownload";
import type * as HubRepoFilesModule from "../core/hub/hubRepoFiles";
import type { HubRepoFile } from "../core/hub/hubRepoFiles";
import { resolveHuggingFaceHubCache } from "../core/store/huggingFaceCache";
import { defaultGgufRepo, type CatalogNode } from "./catalogTree";
import { CommandId } from "./contributionIds";
import type { Ctx } from "./ctx";
import { readHubToken } from "./hubSignInCommand";
import { Disposable, toDisposable } from "./lifecycle";
import type { LocalModels } from "./localModels";
import { withCancellableProgress } from "./cancellableProgress";

/** Programmatic arguments: a repo and the files to fetch skip both pickers. */
export interface DownloadModelOptions {
  readonly repo: string;
  readonly files?: readonly string[];
  readonly revision?: string;
  /** Cancels like the notification's Cancel button. */
  readonly signal?: AbortSignal;
}

/** What happened to one requested file. */
export interface DownloadModelOutcome {
  readonly file: string;
  readonly status: "done" | "failed" | "cancelled";
  /** The snapshot path in the HF cache (what My Models lists). */
  readonly localPath?: string;
  readonly blobPath?: string;
  readonly sha256?: string | undefined;
  readonly size?: number;
  readonly error?: string;
}

interface FilePickItem extends vscode.QuickPickItem {
  readonly file: HubRepoFile;
}

export class DownloadCommand extends Disposable {
  private readonly disposed = new AbortController();

  constructor(
    private readonly ctx: Ctx,
    private readonly models: LocalModels,
  ) {
    super();
    this._register(toDisposable(() => { this.disposed.abort(); }));
    this._register(vscode.commands.registerCommand(CommandId.downloadModel, (argument?: unknown) => this.run(argument)));
  }

  /** The command: one outcome per file, [] when nothing was chosen. Never throws. */
  async run(argument?: unknown): Promise<DownloadModelOutcome[]> {
    const endpoint = this.ctx.settings.values.hubEndpoint;
    let repo: string | undefined;
    try {
      const options = asOptions(argument);
      const entry = options === undefined ? catalogEntryOf(argument) : undefined;
      repo = options?.repo ?? (await askRepo(entry));
      if (repo === undefined) return [];
      const token = await this.token();
      const revision = options?.revision ?? "main";
      const files = options?.files ?? (await this.pickFiles(endpoint, repo, revision, token, entry ?? (await catalogEntryForRepo(repo))));
      if (files.length === 0) return [];
      return await this.downloadAll(endpoint, repo, revision, files, token, options?.signal);
    } catch (error) {
      this.reportError(error, endpoint, repo);
      return [];
    }
  }

  private token(): Promise<string | undefined> {
    return readHubToken(this.ctx.extensionContext.secrets);
  }

  private async pickFiles(endpoint: string, repo: string, revision: string, token: string | undefined, entry: CatalogEntry | undefined): Promise<string[]> {
    const all = await withCancellableProgress(`Listing ${repo}…`, async ({ signal }) => (await hubRepoFiles()).listHubRepoFiles({ endpoint, repo, revision, token, signal }));
    const { isGgufFileName } = await hubRepoFiles();
    const ggufs = all.filter((file) => isGgufFileName(file.path)).sort((a, b) => a.path.localeCompare(b.path));
    if (ggufs.length === 0) {
      void vscode.window.showWarningMessage(`${repo} has no GGUF files: convert its safetensors weights to GGUF first.`);
      return [];
    }
    const recommended = entry === undefined ? STANDARD_PRESETS : recommendedQuantizations(entry);
    const items: FilePickItem[] = ggufs.map((file) => {
      const match = recommended.find((rec) => new RegExp(`[-._]${rec.type}\\.gguf$`, "i").test(file.path));
      return {
        label: file.path,
        description: `${formatBytes(file.size)}${match === undefined ? "" : ` · ★ recommended (${match.preset})`}`,
        file,
      };
    });
    items.sort((a, b) => Number(b.description?.includes("★") ?? false) - Number(a.description?.includes("★") ?? false));
    const picked = await vscode.window.showQuickPick(items, { title: `Download from ${repo}`, placeHolder: "Pick the GGUF file(s) to download", canPickMany: true, matchOnDescription: true });
    return picked?.map((item) => item.file.path) ?? [];
  }

  private async downloadAll(endpoint: string, repo: string, revision: string, files: readonly string[], token: string | undefined, signal: AbortSignal | undefined): Promise<DownloadModelOutcome[]> {
    const cacheDir = resolveHuggingFaceHubCache();
    const outcomes: DownloadModelOutcome[] = [];
    await withCancellableProgress(`Downloading from ${repo}`, async (progress) => {
      // A function, so the check after an await is not narrowed away by the one before it.
      const cancelled = (): boolean => progress.signal.aborted;
      for (const [index, file] of files.entries()) {
        if (cancelled()) {
          outcomes.push({ file, status: "cancelled" });
          continue;
        }
        const onProgress = (step: DownloadProgress): void => {
          const fraction = step.totalBytes > 0 ? step.receivedBytes / step.totalBytes : 0;
          progress.report((index + fraction) / files.length, progressMessage(files.length > 1 ? `${index + 1}/${files.length} ${file}` : file, step));
        };
        try {
          const result = await downloadHubFile({ endpoint, repo, revision, path: file, cacheDir, token, signal: progress.signal, onProgress });
          this.ctx.log.info(`Downloaded ${repo}/${file} (${formatBytes(result.size)}${result.alreadyPresent ? ", already present" : ""}) to ${result.localPath}`);
          outcomes.push({ file, status: "done", localPath: result.localPath, blobPath: result.blobPath, sha256: result.sha256, size: result.size });
        } catch (error) {
          if (error instanceof CancelledError || cancelled()) {
            outcomes.push({ file, status: "cancelled" });
            continue;
          }
          this.ctx.log.error(`Download ${repo}/${file}: ${describeError(error)}`);
          outcomes.push({ file, status: "failed", error: describeError(error) });
          this.reportError(error, endpoint, repo);
        }
      }
    }, [this.disposed.signal, signal]);
    const done = outcomes.filter((outcome) => outcome.status === "done");
    if (done.length > 0) {
      await this.models.refresh().catch((error: unknown) => { this.ctx.log.warn(`Rescanning models failed: ${describeError(error)}`); });
      const last = done[done.length - 1]?.localPath;
      void vscode.window.showInformationMessage(`Downloaded ${done.map((outcome) => outcome.file).join(", ")} from ${repo}.`, "Show Model Info").then((answer) => {
        if (answer !== undefined && last !== undefined) void vscode.commands.executeCommand(CommandId.showModelInfo, last);
      });
    }
    if (outcomes.some((outcome) => outcome.status === "cancelled")) {
      void vscode.window.showInformationMessage("Download cancelled: the partial file is kept, and the next download of it resumes.");
    }
    return outcomes;
  }

  /** One line; a gated or private repo gets a button to its model page on the configured endpoint. */
  private reportError(error: unknown, endpoint: string, repo: string | undefined): void {
    const message = describeError(error);
    this.ctx.log.error(`Download Model: ${message}`);
    if (error instanceof HubAccessError && repo !== undefined) {
      const page = `${endpoint.replace(/\/+$/, "")}/${repo}`;
      void vscode.window.showErrorMessage(message, "Open model page", "Sign in").then((answer) => {
        if (answer === "Open model page") void vscode.env.openExternal(vscode.Uri.parse(page));
        if (answer === "Sign in") void vscode.commands.executeCommand(CommandId.signInToHuggingFace);
      });
      return;
    }
    void vscode.window.showErrorMessage(message);
  }
}

/** "file: 12 MiB / 40 MiB (31%) · 5.2 MiB/s · 0:05 left". */
function progressMessage(label: string, step: DownloadProgress): string {
  if (step.phase === "checking") return `${label}: checking the partial file…`;
  if (step.phase === "verifying") return `${label}: verifying…`;
  const percent = step.totalBytes > 0 ? Math.floor((step.receivedBytes / step.totalBytes) * 100) : 0;
  const speed = step.bytesPerSecond > 0 ? ` · ${formatBytes(step.bytesPerSecond)}/s` : "";
  const eta = step.etaSeconds === undefined ? "" : ` · ${formatDuration(step.etaSeconds)} left`;
  return `${label}: ${formatBytes(step.receivedBytes)} / ${formatBytes(step.totalBytes)} (${percent}%)${speed}${eta}`;
}

function formatDuration(seconds: number): string {
  const total = Math.ceil(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

async function askRepo(entry: CatalogEntry | undefined): Promise<string | undefined> {
  const value = entry === undefined ? undefined : defaultGgufRepo(entry);
  const repo = await vscode.window.showInputBox({
    title: "Download Model",
    prompt: "Hugging Face repo id (owner/name) holding GGUF files",
    placeHolder: "Qwen/Qwen3-0.6B-GGUF",
    ...(value === undefined ? {} : { value }),
    validateInput: (text) => (/^[\w.-]+\/[\w.-]+$/.test(text.trim()) ? undefined : "Enter a repo id like owner/name"),
  });
  const trimmed = repo?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

/** The catalog entry of a Catalog view node passed by the tree's menus. */
function catalogEntryOf(argument: unknown): CatalogEntry | undefined {
  if (typeof argument !== "object" || argument === null || !("kind" in argument)) return undefined;
  const node = argument as CatalogNode;
  return node.kind === "entry" ? node.entry : undefined;
}

/** The catalog entry that lists `repo` as one of its GGUF repos (for marking its recommended quantizations). */
async function catalogEntryForRepo(repo: string): Promise<CatalogEntry | undefined> {
  const wanted = repo.toLowerCase();
  const { loadCuratedCatalog } = await import("../core/catalog/curatedCatalog.js");
  return loadCuratedCatalog().entries.find((entry) => entry.repositories.gguf.some((source) => source.repo.toLowerCase() === wanted));
}

/** The Hub listing module, loaded on first use: it brings @huggingface/hub (and its hashing code) into the extension host. */
function hubRepoFiles(): Promise<typeof HubRepoFilesModule> {
  return import("../core/hub/hubRepoFiles.js");
}

/** The argument when it is our options object (`{ repo, files? }`). */
function asOptions(value: unknown): DownloadModelOptions | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const repo = record["repo"];
  if (typeof repo !== "string") return undefined;
  const files = record["files"];
  const revision = record["revision"];
  const signal = record["signal"];
  return {
    repo,
    ...(Array.isArray(files) && files.every((entry): entry is string => typeof entry === "string") ? { files } : {}),
    ...(typeof revision === "string" ? { revision } : {}),
    ...(signal instanceof AbortSignal ? { signal } : {}),
  };
}
