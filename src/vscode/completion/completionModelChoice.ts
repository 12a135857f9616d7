/**
 * Orders My Models for the completion model picker: coder models first (names that say so, or a family with FIM
 * tokens), smaller before larger within each group (a completion model should answer fast). Pure (no `vscode`).
 */
import type { StoredModel } from "../../core/store/storedModel";

const CODER_NAME = /coder|codegemma|codestral|starcoder|codellama|code-?llama|\bcode\b|deepseek-?coder|granite-?.*code/i;

/** True when a model looks made for code (its file, repo or `general.name` says so). */
export function isCoderModel(model: StoredModel): boolean {
  return CODER_NAME.test(model.label) || CODER_NAME.test(model.repoId ?? "") || CODER_NAME.test(model.summary?.name ?? "");
}

/** Readable models for the picker: coder models first, then the rest; each group smallest first. */
export function completionModelCandidates(models: readonly StoredModel[]): { readonly coder: StoredModel[]; readonly other: StoredModel[] } {
  const readable = models.filter((model) => model.error === undefined && model.files.length >= model.partCount);
  const bySize = (a: StoredModel, b: StoredModel): number => a.sizeBytes - b.sizeBytes || a.label.localeCompare(b.label);
  return {
    coder: readable.filter(isCoderModel).sort(bySize),
    other: readable.filter((model) => !isCoderModel(model)).sort(bySize),
  };
}
