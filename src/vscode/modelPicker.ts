/**
 * Choosing the model a model command works on: the argument it was given (a My Models node, a Uri or a path), or a
 * quick pick over My Models. Shared by Quantize Model, Benchmark Model and Compare Quantizations.
 */
import path from "node:path";
import * as vscode from "vscode";
import { UserError } from "../core/errors";
import { formatBytes } from "../core/format/humanUnits";
import type { StoredModel } from "../core/store/storedModel";
import type { LocalModels } from "./localModels";
import type { ModelCommandArgument } from "./modelCommands";

/** The path of a model a command can use; an incomplete split model or an unreadable one is a UserError. */
export function usableModelPath(model: StoredModel): string {
  if (model.files.length < model.partCount) throw new UserError(model.error ?? `${model.label} is incomplete: parts are missing.`);
  if (model.error !== undefined) throw new UserError(model.error);
  return model.path;
}

/** The model path an argument names (checked when it is a known model); undefined for a node that is not a model. */
export async function resolveModelArgument(models: LocalModels, argument: Exclude<ModelCommandArgument, undefined>): Promise<string | undefined> {
  if (typeof argument === "object" && "kind" in argument) return argument.kind === "model" ? usableModelPath(argument.model) : undefined;
  const file = path.resolve(typeof argument === "string" ? argument : argument.fsPath);
  if (models.findByPath(file) === undefined) await models.getScan().catch(() => undefined);
  const model = models.findByPath(file);
  return model === undefined ? file : usableModelPath(model);
}

export interface ModelPickOptions {
  readonly title: string;
  readonly placeHolder: string;
  /** Said when My Models has nothing readable. */
  readonly noModels: string;
  /** A button on that message and the command it runs. */
  readonly noModelsAction?: { readonly label: string; readonly command: string };
}

/** A quick pick over the readable models of My Models; undefined when there are none or nothing was picked. */
export async function pickLocalModel(models: LocalModels, options: ModelPickOptions): Promise<StoredModel | undefined> {
  const scan = await models.getScan();
  interface Item extends vscode.QuickPickItem {
    readonly model: StoredModel;
  }
  const items: Item[] = scan.models
    .filter((model) => model.error === undefined)
    .map((model) => ({
      label: model.label,
      description: model.summary === undefined ? formatBytes(model.sizeBytes) : `${model.summary.fileType} · ${formatBytes(model.sizeBytes)}`,
      detail: model.path,
      model,
    }));
  if (items.length === 0) {
    const action = options.noModelsAction;
    if (action === undefined) void vscode.window.showInformationMessage(options.noModels);
    else {
      void vscode.window.showInformationMessage(options.noModels, action.label).then((answer) => {
        if (answer !== undefined) void vscode.commands.executeCommand(action.command);
      });
    }
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { title: options.title, placeHolder: options.placeHolder, matchOnDetail: true });
  return picked?.model;
}
