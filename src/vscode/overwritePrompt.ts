/** The question Quantize and Convert ask when their output file already exists. */
import path from "node:path";
import * as vscode from "vscode";

/** A modal "<file> already exists": Overwrite, or Skip (also when dismissed). */
export async function askOverwrite(output: string): Promise<"overwrite" | "skip"> {
  const answer = await vscode.window.showWarningMessage(`${path.basename(output)} already exists.`, { modal: true, detail: output }, "Overwrite", "Skip");
  return answer === "Overwrite" ? "overwrite" : "skip";
}
