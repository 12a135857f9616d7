import assert from "node:assert/strict";
import * as vscode from "vscode";
import { extensionHostTest } from "./harness";

const EXTENSION_ID = "slm-lab.slm-lab";

interface ContributedCommand {
  readonly command: string;
}

function contributedCommands(extension: vscode.Extension<unknown>): string[] {
  const manifest = extension.packageJSON as { contributes?: { commands?: readonly ContributedCommand[] } };
  return (manifest.contributes?.commands ?? []).map((entry) => entry.command);
}

extensionHostTest("the extension is present and activates", async () => {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded in this extension host`);
  await extension.activate();
  assert.equal(extension.isActive, true);
});

extensionHostTest("every command in package.json is registered", async () => {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension);
  await extension.activate();
  const declared = contributedCommands(extension);
  assert.ok(declared.length > 0, "package.json contributes no commands");
  const registered = new Set(await vscode.commands.getCommands(true));
  const missing = declared.filter((command) => !registered.has(command));
  assert.deepEqual(missing, [], `declared in package.json but not registered: ${missing.join(", ")}`);
});
