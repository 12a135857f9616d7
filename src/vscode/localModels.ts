/**
 * The models on this machine, as the extension sees them: the core store scan, run on demand (first when My Models
 * becomes visible, never during activation), kept current by file watchers and setting changes.
 */

import { watch as fsWatch, existsSync, mkdirSync, type FSWatcher } from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { CancelledError, describeError } from "../core/errors";
import { readGgufSummary } from "../core/gguf/ggufModelSummary";
import { GgufSummaryCache } from "../core/store/ggufSummaryCache";
import { resolveHuggingFaceHubCache } from "../core/store/huggingFaceCache";
import { lmStudioModelsDirectories } from "../core/store/lmStudioModels";
import { resolveOllamaModelsDirectory } from "../core/store/ollamaModels";
import { scanModelStore } from "../core/store/modelStoreScan";
import { resolveModelsDirectory } from "../core/store/modelsDirectory";
import type { ModelStoreScan, StoredModel } from "../core/store/storedModel";
import type { Ctx } from "./ctx";
import { Disposable, toDisposable, type IDisposable } from "./lifecycle";

/** Where models are looked for, resolved from the settings. */
export interface ModelLocations {
  readonly modelsDirectory: string;
  /** True when `slmLab.modelsDirectory` is empty and the folder is SLM Lab's own (created on demand). */
  readonly isDefaultModelsDirectory: boolean;
  /** Why the configured models folder could not be used (the default is used instead). */
  readonly modelsDirectoryProblem: string | undefined;
  readonly huggingFaceCacheDirectory: string | undefined;
  /** Ollama's models folder, listed read-only along with the HF cache (same setting). */
  readonly ollamaModelsDirectory: string | undefined;
  /** LM Studio's models folders, listed read-only along with the HF cache (same setting). */
  readonly lmStudioModelsDirectories: readonly string[];
}

/** Quiet time after the last file event before rescanning: a download or copy fires many events. */
const WATCH_DEBOUNCE_MS = 400;

export class LocalModels extends Disposable {
  private readonly cache = new GgufSummaryCache((file, signal) => readGgufSummary(file, signal === undefined ? {} : { signal }));
  private readonly _onDidChange = this._register(new vscode.EventEmitter<ModelStoreScan>());
  /** Fires after every completed scan. */
  readonly onDidChange = this._onDidChange.event;
  private _latest: ModelStoreScan | undefined;
  private running: Promise<ModelStoreScan> | undefined;
  private queued: Promise<ModelStoreScan> | undefined;
  private cacheLoaded = false;
  private savedParses = 0;
  private watchers: IDisposable[] = [];
  private watching = false;
  private debounceTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly ctx: Ctx) {
    super();
    this._register(toDisposable(() => { this.abort.abort(); }));
    this._register(toDisposable(() => { this.stopWatching(); }));
    this._register(toDisposable(() => { if (this.debounceTimer !== undefined) clearTimeout(this.debounceTimer); }));
    this._register(
      ctx.settings.onDidChange(({ changed }) => {
        if (changed.has("modelsDirectory") || changed.has("scanHuggingFaceCache")) {
          if (this.watching) this.startWatching();
          if (this._latest !== undefined || this.running !== undefined) void this.refresh().catch(() => undefined);
        }
      }),
    );
  }

  /** The last completed scan, if any. */
  get latest(): ModelStoreScan | undefined {
    return this._latest;
  }

  /** Where models are looked for now. Never throws: an unusable configured folder falls back to the default one. */
  locations(): ModelLocations {
    const values = this.ctx.settings.values;
    const defaultDirectory = path.join(this.ctx.globalStorageUri.fsPath, "models");
    let modelsDirectory = defaultDirectory;
    let modelsDirectoryProblem: string | undefined;
    try {
      modelsDirectory = resolveModelsDirectory(values.modelsDirectory, defaultDirectory);
    } catch (error) {
      modelsDirectoryProblem = `slmLab.modelsDirectory: ${describeError(error)}`;
    }
    return {
      modelsDirectory,
      isDefaultModelsDirectory: modelsDirectory === path.resolve(defaultDirectory),
      modelsDirectoryProblem,
      huggingFaceCacheDirectory: values.scanHuggingFaceCache ? resolveHuggingFaceHubCache() : undefined,
      ollamaModelsDirectory: values.scanHuggingFaceCache ? resolveOllamaModelsDirectory() : undefined,
      lmStudioModelsDirectories: values.scanHuggingFaceCache ? lmStudioModelsDirectories() : [],
    };
  }

  /**
   * The models: the scan under way if there is one (it may follow a settings change the last scan predates), else
   * the last scan, else a new one. Starts the watchers on first use.
   */
  async getScan(): Promise<ModelStoreScan> {
    return this.queued ?? this.running ?? this._latest ?? this.refresh();
  }

  /** Scans again; while a scan runs, callers share one follow-up scan so what they get is never older than the call. */
  refresh(): Promise<ModelStoreScan> {
    if (!this.watching) this.startWatching();
    if (this.running === undefined) return this.startScan();
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.running ?? this.startScan();
      });
    return this.queued;
  }

  private startScan(): Promise<ModelStoreScan> {
    const run: Promise<ModelStoreScan> = this.runScan().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** The model that has `file` as one of its parts, in the last scan. */
  findByPath(file: string): StoredModel | undefined {
    const wanted = path.resolve(file);
    return this._latest?.models.find((model) => model.files.some((part) => part.path === wanted || part.realPath === wanted));
  }

  private async runScan(): Promise<ModelStoreScan> {
    const started = performance.now();
    const locations = this.locations();
    if (locations.modelsDirectoryProblem !== undefined) this.ctx.log.warn(locations.modelsDirectoryProblem);
    const cacheFile = path.join(this.ctx.globalStorageUri.fsPath, "gguf-summary-cache.json");
    if (!this.cacheLoaded) {
      this.cacheLoaded = true;
      await this.cache.load(cacheFile);
    }
    if (locations.isDefaultModelsDirectory && !existsSync(locations.modelsDirectory)) {
      // SLM Lab's own folder: create it so it can be watched and opened. A configured folder is never created unasked.
      mkdirSync(locations.modelsDirectory, { recursive: true });
    }
    const scan = await scanModelStore({
      modelsDirectory: locations.modelsDirectory,
      huggingFaceCacheDirectory: locations.huggingFaceCacheDirectory,
      ollamaModelsDirectory: locations.ollamaModelsDirectory,
      lmStudioModelsDirectories: locations.lmStudioModelsDirectories,
      cache: this.cache,
      signal: this.abort.signal,
    });
    if (this.isDisposed) throw new CancelledError();
    for (const problem of scan.problems) this.ctx.log.warn(problem);
    const parsedNow = this.cache.parses - this.savedParses;
    this.ctx.log.info(
      `Found ${scan.models.length} model(s) in ${locations.modelsDirectory}${locations.huggingFaceCacheDirectory === undefined ? "" : ` and ${locations.huggingFaceCacheDirectory}`} ` +
        `(${parsedNow} parsed, the rest from cache) in ${(performance.now() - started).toFixed(0)} ms`,
    );
    if (parsedNow > 0) {
      this.savedParses = this.cache.parses;
      this.cache.save(cacheFile).catch((error: unknown) => { this.ctx.log.warn(`Could not save the model summary cache: ${describeError(error)}`); });
    }
    this._latest = scan;
    this._onDidChange.fire(scan);
    return scan;
  }

  /** (Re)creates the watchers on the models folder and the HF cache. */
  private startWatching(): void {
    this.stopWatching();
    this.watching = true;
    const locations = this.locations();
    const roots = [locations.modelsDirectory, locations.huggingFaceCacheDirectory].filter((root): root is string => root !== undefined);
    for (const root of roots) {
      if (existsSync(root)) {
        // A RelativePattern on an absolute folder watches outside the workspace too.
        const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), "**/*.gguf"));
        watcher.onDidCreate(() => { this.scheduleRefresh(); });
        watcher.onDidChange(() => { this.scheduleRefresh(); });
        watcher.onDidDelete(() => { this.scheduleRefresh(); });
        this.watchers.push(watcher);
      } else {
        // The folder does not exist yet: VS Code cannot watch it, so watch the nearest existing parent for it to appear.
        this.watchers.push(this.watchForCreation(root));
      }
    }
    // Other tools' stores are watched only when they exist (no watcher on a home folder waiting for them).
    const others: [string, string][] = locations.lmStudioModelsDirectories.map((root) => [root, "**/*.gguf"]);
    if (locations.ollamaModelsDirectory !== undefined) others.push([path.join(locations.ollamaModelsDirectory, "manifests"), "**"]);
    for (const [root, pattern] of others) {
      if (!existsSync(root)) continue;
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), pattern));
      watcher.onDidCreate(() => { this.scheduleRefresh(); });
      watcher.onDidChange(() => { this.scheduleRefresh(); });
      watcher.onDidDelete(() => { this.scheduleRefresh(); });
      this.watchers.push(watcher);
    }
  }

  private watchForCreation(root: string): IDisposable {
    let parent = path.dirname(root);
    while (!existsSync(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent);
    let watcher: FSWatcher | undefined;
    try {
      watcher = fsWatch(parent, { persistent: false }, () => {
        if (existsSync(root)) {
          this.startWatching();
          this.scheduleRefresh();
        }
      });
      watcher.on("error", () => watcher?.close());
    } catch (error) {
      this.ctx.log.debug(`Not watching ${parent} for ${root} to appear: ${describeError(error)}`);
    }
    return toDisposable(() => watcher?.close());
  }

  private stopWatching(): void {
    const watchers = this.watchers;
    this.watchers = [];
    for (const watcher of watchers) watcher.dispose();
  }

  private scheduleRefresh(): void {
    if (this.isDisposed) return;
    if (this.debounceTimer !== undefined) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.refresh().catch((error: unknown) => {
        if (!(error instanceof CancelledError)) this.ctx.log.error(`Rescanning models failed: ${describeError(error)}`);
      });
    }, WATCH_DEBOUNCE_MS);
  }
}
