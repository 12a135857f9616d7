/**
 * "SLM Lab: Sign in to Hugging Face": keeps a Hugging Face access token in VS Code's SecretStorage (the OS keychain),
 * never in settings and never in the log, for gated and private repos. An empty answer signs out.
 */

import * as vscode from "vscode";
import { CommandId } from "./contributionIds";
import type { Ctx } from "./ctx";
import { Disposable } from "./lifecycle";

/** The SecretStorage key of the Hugging Face token. */
export const HUGGING_FACE_TOKEN_SECRET = "slmLab.huggingFaceToken";

/** The stored token, or undefined when signed out. */
export async function readHubToken(secrets: vscode.SecretStorage): Promise<string | undefined> {
  const token = await secrets.get(HUGGING_FACE_TOKEN_SECRET);
  return token === undefined || token === "" ? undefined : token;
}

export class HubSignInCommand extends Disposable {
  constructor(private readonly ctx: Ctx) {
    super();
    this._register(vscode.commands.registerCommand(CommandId.signInToHuggingFace, (argument?: unknown) => this.run(argument)));
  }

  /** Returns "signed-in", "signed-out" or "cancelled". Programmatic callers pass `{ token }` ("" signs out). */
  async run(argument?: unknown): Promise<"signed-in" | "signed-out" | "cancelled"> {
    const given = typeof argument === "object" && argument !== null && "token" in argument && typeof argument.token === "string" ? argument.token : undefined;
    const answer =
      given ??
      (await vscode.window.showInputBox({
        title: "Sign in to Hugging Face",
        prompt: "A Hugging Face access token (huggingface.co/settings/tokens, read access is enough); leave empty to sign out",
        placeHolder: "hf_…",
        password: true,
        ignoreFocusOut: true,
        validateInput: (text) => (text.trim() === "" || /^\S+$/.test(text.trim()) ? undefined : "A token has no spaces"),
      }));
    if (answer === undefined) return "cancelled";
    const token = answer.trim();
    const secrets = this.ctx.extensionContext.secrets;
    if (token === "") {
      await secrets.delete(HUGGING_FACE_TOKEN_SECRET);
      this.ctx.log.info("Signed out of Hugging Face (token removed from the secret storage).");
      if (given === undefined) void vscode.window.showInformationMessage("SLM Lab: signed out of Hugging Face.");
      return "signed-out";
    }
    await secrets.store(HUGGING_FACE_TOKEN_SECRET, token);
    this.ctx.log.info("Hugging Face token stored in the secret storage.");
    if (given === undefined) void vscode.window.showInformationMessage("SLM Lab: signed in to Hugging Face; gated and private repos you may read can now be downloaded.");
    return "signed-in";
  }
}
