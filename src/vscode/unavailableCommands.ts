/**
 * Commands that package.json contributes but this version does not implement yet. Each says so plainly instead of
 * pretending; a feature's own module registers its command and removes it from this list.
 */

import * as vscode from "vscode";
import type { CommandId } from "./contributionIds";
import { Disposable } from "./lifecycle";

/** Not built yet, with the title the message names (as in package.json). */
export const UNAVAILABLE_COMMANDS: readonly (readonly [CommandId, string])[] = [
];

export class UnavailableCommands extends Disposable {
  constructor() {
    super();
    for (const [id, title] of UNAVAILABLE_COMMANDS) {
      this._register(
        vscode.commands.registerCommand(id, () => {
          void vscode.window.showInformationMessage(`SLM Lab: ${title} is not available in this version yet.`);
        }),
      );
    }
  }
}
