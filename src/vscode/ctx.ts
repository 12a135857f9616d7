/**
 * The one context object (after rust-analyzer's `ctx.ts`): what every command, view and panel needs, built once in
 * `activate`. Heavy parts are created on first use, not here.
 */

import * as vscode from "vscode";
import { Disposable, type IDisposable } from "./lifecycle";
import { Settings } from "./settings";

export class Ctx extends Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly settings: Settings;

  constructor(readonly extensionContext: vscode.ExtensionContext) {
    super();
    this.log = this._register(vscode.window.createOutputChannel("SLM Lab", { log: true }));
    const log = this.log;
    this.settings = this._register(
      new Settings((problems) => {
        for (const problem of problems) log.warn(`Invalid setting: ${problem}`);
      }),
    );
  }

  get extensionUri(): vscode.Uri {
    return this.extensionContext.extensionUri;
  }

  /** Where SLM Lab keeps its own state (models by default, the summary cache). */
  get globalStorageUri(): vscode.Uri {
    return this.extensionContext.globalStorageUri;
  }

  /** Registers a disposable to live as long as the extension. */
  own<T extends IDisposable>(value: T): T {
    return this._register(value);
  }
}
