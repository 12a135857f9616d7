/** What the extension-host tests share: the activated SLM Lab API, and the model rows of one My Models group. */
import assert from "node:assert/strict";
import * as vscode from "vscode";
import type { SlmLabApi } from "../../../src/extension";
import type { MyModelsModelNode, MyModelsNode } from "../../../src/vscode/myModelsTree";

const EXTENSION_ID = "slm-lab.slm-lab";

/** Activates SLM Lab (if it is not yet) and returns the API it exports for tests. */
export async function activateSlmLab(): Promise<SlmLabApi> {
  const extension = vscode.extensions.getExtension<SlmLabApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded`);
  return extension.activate();
}

/** The model rows under My Models' group for `source` (none when the group is not shown). */
export async function myModelsNodes(slm: SlmLabApi, source: "models-folder" | "huggingface-cache" = "models-folder"): Promise<MyModelsModelNode[]> {
  const roots = await slm.myModels.getChildren();
  const group = roots.find((node) => node.kind === "group" && node.source === source);
  if (group === undefined) return [];
  const children = await slm.myModels.getChildren(group);
  return children.filter((node: MyModelsNode): node is MyModelsModelNode => node.kind === "model");
}
