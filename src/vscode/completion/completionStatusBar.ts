/**
 * The status bar item of inline completions: engine, model, last latency and tok/s, or what is wrong and what a
 * click does (src/vscode/completion/completionStatus.ts holds the words). A click opens the completion menu.
 */
import * as vscode from "vscode";
import { CommandId } from "../contributionIds";
import { Disposable } from "../lifecycle";
import { completionStatusView, type CompletionStatus } from "./completionStatus";

export class CompletionStatusBar extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem("slmLab.completion", vscode.StatusBarAlignment.Right, 100));
  private current: CompletionStatus = { state: "off" };
  private readonly _onDidChange = this._register(new vscode.EventEmitter<CompletionStatus>());
  /** Fires after every change of the shown state. */
  readonly onDidChange = this._onDidChange.event;

  constructor() {
    super();
    this.item.name = "SLM Lab Completions";
    this.item.command = CommandId.showCompletionMenu;
    this.render();
    this.item.show();
  }

  get status(): CompletionStatus {
    return this.current;
  }

  /** The bar's text as shown now (tests read it). */
  get text(): string {
    return this.item.text;
  }

  get tooltip(): string {
    return typeof this.item.tooltip === "string" ? this.item.tooltip : (this.item.tooltip?.value ?? "");
  }

  set(status: CompletionStatus): void {
    if (JSON.stringify(status) === JSON.stringify(this.current)) return;
    this.current = status;
    this.render();
    this._onDidChange.fire(status);
  }

  private render(): void {
    const view = completionStatusView(this.current);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    this.item.accessibilityInformation = { label: view.tooltip.split("\n")[0] ?? view.text };
  }
}
