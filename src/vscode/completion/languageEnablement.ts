/**
 * Which languages get inline completions: `slmLab.completion.languages` maps language ids to on/off, `"*"` standing
 * for every language not named (as GitHub Copilot's `github.copilot.enable` does). Pure: no `vscode` import.
 */
import type { LanguageSwitches } from "../settingsSchema";

/** True when completions are on for `languageId`: its own entry, else `"*"`, else on. */
export function isLanguageEnabled(switches: LanguageSwitches, languageId: string): boolean {
  if (Object.hasOwn(switches, languageId)) return switches[languageId] === true;
  if (Object.hasOwn(switches, "*")) return switches["*"] === true;
  return true;
}

/** The switches with `languageId` set to `enabled` (for the status menu's "disable for this language"). */
export function withLanguage(switches: LanguageSwitches, languageId: string, enabled: boolean): LanguageSwitches {
  return { ...switches, [languageId]: enabled };
}
