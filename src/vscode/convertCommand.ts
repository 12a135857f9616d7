/**
 * "SLM Lab: Convert to GGUF": picks a checkpoint folder (a Hugging Face snapshot found in the models folder, or any
 * folder through the open dialog), an output type, and runs the core converter (a child process) under a cancellable
 * progress notification. The GGUF goes to the models folder as `<name>-<TYPE>.gguf`; at the end "Quantize now" runs
 * the quantize command on it.
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import * as vscode from "vscode";
import { modelName } from "../core/convert/checkpointModelName";
import { convertCheckpoint, isConvertOutTypeRequest, type ConvertOutTypeRequest, type ConvertProgress, type ConvertResult } from "../core/convert/convertCheckpoint";
import { CancelledError, describeError } from "../core/errors";
import { formatBytes } from "../core/format/humanUnits";
import { CommandId } from "./contributionIds";
import type { Ctx } from "./ctx";
import { Disposable } from "./lifecycle";
import { askOverwrite } from "./overwritePrompt";
import type { LocalModels } from "./localModels";
import { withCancellableProgress } from "./cancellableProgress";

/** Programmatic options (API and tests): given values skip the pickers and questions. */
export interface ConvertCommandOptions {
  readonly outType?: ConvertOutTypeRequest;
  /** Output path; default `<models folder>/<name>-<TYPE>.gguf`. */
  readonly outFile?: string;
  readonly ifExists?: "overwrite" | "skip";
  /** Skip the "Quantize now" offer at the end. */
  readonly noFollowUp?: boolean;
  readonly signal?: AbortSignal;
}

/** What the command did (tests check it). */
export interface ConvertCommandOutcome {
  readonly status: "done" | "skipped" | "cancelled" | "failed";
  readonly output?: string;
  readonly result?: ConvertResult;
  readonly error?: string;
}

const OUT_TYPE_ITEMS: readonly (vscode.QuickPickItem & { readonly outType: ConvertOutTypeRequest })[] = [
  { label: "auto", description: "bf16 for a BF16 checkpoint, else f16 (lossless for the usual checkpoints)", outType: "auto" },
  { label: "f16", description: "16-bit float", outType: "f16" },
  { label: "bf16", description: "bfloat16", outType: "bf16" },
  { label: "q8_0", description: "8-bit (llama.cpp Q8_0), about half the size of f16", outType: "q8_0" },
  { label: "f32", description: "32-bit float (largest)", outType: "f32" },
];

export class ConvertCommand extends Disposable {
  constructor(
    private readonly ctx: Ctx,
    private readonly models: LocalModels,
  ) {
    super();
    this._register(vscode.commands.registerCommand(CommandId.convertToGguf, (argument?: unknown, options?: unknown) => this.run(argument, asOptions(options))));
  }

  /** The command; never throws. `argument`: a checkpoint folder (string or Uri), else the user picks one. */
  async run(argument: unknown, options: ConvertCommandOptions = {}): Promise<ConvertCommandOutcome | undefined> {
    let dir: string | undefined;
    try {
      dir = typeof argument === "string" ? argument : argument instanceof vscode.Uri ? argument.fsPath : await this.pickCheckpoint();
      if (dir === undefined) return undefined;
      const outType = options.outType ?? (await pickOutType());
      if (outType === undefined) return undefined;
      const output = options.outFile ?? path.join(this.models.locations().modelsDirectory, `${modelName(path.resolve(dir))}-${outType === "auto" ? "converted" : outType.toUpperCase()}.gguf`);
      let overwrite = false;
      if (existsSync(output)) {
        const answer = options.ifExists ?? (await askOverwrite(output));
        if (answer !== "overwrite") return { status: "skipped", output };
        overwrite = true;
      }
      await vscode.workspace.fs.createDirectory(vscode.Uri.file(path.dirname(output)));
      return await this.convert(dir, output, outType, overwrite, options);
    } catch (error) {
      this.ctx.log.error(`Convert: ${describeError(error)}`);
      // Says which checkpoint failed: the error itself names only the file inside it.
      void vscode.window.showErrorMessage(dir === undefined ? describeError(error) : `Cannot convert ${path.basename(dir)}: ${describeError(error)}`);
      return { status: "failed", error: describeError(error) };
    }
  }

  private async convert(dir: string, output: string, outType: ConvertOutTypeRequest, overwrite: boolean, options: ConvertCommandOptions): Promise<ConvertCommandOutcome> {
    const outcome = await withCancellableProgress(
      `Converting ${path.basename(dir)} to GGUF`,
      async (progress): Promise<ConvertCommandOutcome> => {
        try {
          const result = await convertCheckpoint({
            checkpointDir: dir,
            outFile: output,
            outType,
            overwrite,
            signal: progress.signal,
            onProgress: (step: ConvertProgress) => {
              progress.report(step.fraction, step.phase === "converting" ? `${step.tensorsDone}/${step.tensorCount} ${step.tensorName ?? ""}` : step.phase);
            },
          });
          this.ctx.log.info(`Converted ${dir} to ${output}: ${result.architecture} ${result.outType}, ${formatBytes(result.outputSize)} in ${result.durationMs} ms`);
          return { status: "done", output, result };
        } catch (error) {
          if (error instanceof CancelledError) return { status: "cancelled", output };
          throw error;
        }
      },
      [options.signal],
    );
    if (outcome.status === "cancelled") {
      void vscode.window.showInformationMessage("Conversion cancelled: no partial output was kept.");
      return outcome;
    }
    await this.models.refresh().catch((error: unknown) => { this.ctx.log.warn(`Rescanning models failed: ${describeError(error)}`); });
    if (options.noFollowUp !== true && outcome.result !== undefined) void this.offerQuantize(output, outcome.result);
    return outcome;
  }

  private async offerQuantize(output: string, result: ConvertResult): Promise<void> {
    const answer = await vscode.window.showInformationMessage(
      `Converted to ${path.basename(output)} (${result.outType}, ${formatBytes(result.outputSize)}).`,
      "Quantize now",
      "Show Model Info",
    );
    if (answer === "Quantize now") await vscode.commands.executeCommand(CommandId.quantizeModel, output);
    if (answer === "Show Model Info") await vscode.commands.executeCommand(CommandId.showModelInfo, output);
  }

  /** Checkpoint folders in the models folder (downloaded snapshots), plus "Browse…". */
  private async pickCheckpoint(): Promise<string | undefined> {
    const found = await findCheckpointFolders(this.models.locations().modelsDirectory);
    const browse: vscode.QuickPickItem & { readonly dir?: string } = { label: "$(folder-opened) Browse…", description: "a folder with config.json and *.safetensors" };
    const items: (vscode.QuickPickItem & { readonly dir?: string })[] = [...found.map((dir) => ({ label: path.basename(dir), description: dir, dir })), browse];
    const picked = found.length === 0 ? browse : await vscode.window.showQuickPick(items, { title: "Convert to GGUF: checkpoint", placeHolder: "A Hugging Face checkpoint folder" });
    if (picked === undefined) return undefined;
    if (picked.dir !== undefined) return picked.dir;
    const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: "Convert" });
    return uris?.[0]?.fsPath;
  }
}

/** Folders (depth ≤ 5) holding config.json and safetensors weights. */
async function findCheckpointFolders(root: string, depth = 0): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const names = new Set(entries.map((entry) => entry.name));
  const here = names.has("config.json") && entries.some((entry) => entry.name.endsWith(".safetensors") || entry.name === "model.safetensors.index.json") ? [root] : [];
  if (depth >= 5) return here;
  const nested = await Promise.all(entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith(".")).map((entry) => findCheckpointFolders(path.join(root, entry.name), depth + 1)));
  return [...here, ...nested.flat()];
}

async function pickOutType(): Promise<ConvertOutTypeRequest | undefined> {
  const picked = await vscode.window.showQuickPick(OUT_TYPE_ITEMS, { title: "Convert to GGUF: output type" });
  return picked?.outType;
}

function asOptions(value: unknown): ConvertCommandOptions {
  if (typeof value !== "object" || value === null) return {};
  const record = value as Record<string, unknown>;
  const outType = record["outType"];
  const ifExists = record["ifExists"];
  return {
    ...(typeof outType === "string" && isConvertOutTypeRequest(outType) ? { outType } : {}),
    ...(typeof record["outFile"] === "string" ? { outFile: record["outFile"] } : {}),
    ...(ifExists === "overwrite" || ifExists === "skip" ? { ifExists } : {}),
    ...(record["noFollowUp"] === true ? { noFollowUp: true } : {}),
    ...(record["signal"] instanceof AbortSignal ? { signal: record["signal"] } : {}),
  };
}
