/**
 * The text perplexity is measured on: SLM Lab's bundled default (media/eval/slm-lab-eval.txt, English prose and
 * source code written for SLM Lab), a file, or text given inline (the current editor, workspace files).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors";

/** Where the evaluation text for perplexity comes from. */
export type BenchTextSource =
  | { readonly kind: "bundled" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "inline"; readonly name: string; readonly text: string };

export interface BenchText {
  /** "bundled:slm-lab-eval", the file's path, or "inline:<name>". */
  readonly source: string;
  readonly text: string;
  readonly sha256: string;
}

const BUNDLED_NAME = "slm-lab-eval.txt";

/** Path of the bundled text: media/eval/ next to dist/ (bundles) or at the repository root (sources under tsx). */
export function bundledEvalTextPath(): string {
  const candidates = [
    path.join(__dirname, "..", "media", "eval", BUNDLED_NAME),
    path.join(__dirname, "..", "..", "media", "eval", BUNDLED_NAME),
    path.join(__dirname, "..", "..", "..", "media", "eval", BUNDLED_NAME),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) throw new UserError("SLM Lab's bundled evaluation text is missing from this installation.", { action: "Reinstall SLM Lab, or pass a text file (--text FILE)." });
  return found;
}

/** Reads the text of a source and hashes it (the hash keys the baseline's stored log-probs). */
export async function resolveBenchText(source: BenchTextSource): Promise<BenchText> {
  let text: string;
  let name: string;
  switch (source.kind) {
    case "bundled":
      text = await readFile(bundledEvalTextPath(), "utf8");
      name = "bundled:slm-lab-eval";
      break;
    case "file":
      try {
        text = await readFile(source.path, "utf8");
      } catch (error: unknown) {
        throw new UserError(`Cannot read the evaluation text ${source.path}.`, { action: "Check the path (--text FILE).", inner: error });
      }
      name = path.resolve(source.path);
      break;
    case "inline":
      text = source.text;
      name = `inline:${source.name}`;
      break;
  }
  // llama-perplexity -f drops one trailing newline (common/arg.cpp): the same tokens for the same file.
  if (source.kind !== "inline" && text.endsWith("\n")) text = text.slice(0, -1);
  if (text.trim() === "") throw new UserError(`The evaluation text ${name} is empty.`, { action: "Use a text of a few thousand words." });
  return { source: name, text, sha256: createHash("sha256").update(text, "utf8").digest("hex") };
}
