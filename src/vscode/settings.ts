/**
 * The one module that reads `slmLab.*` (after rust-analyzer's `config.ts`): typed, validated values and a change event.
 * Nobody else calls `getConfiguration("slmLab")`.
 */

import * as vscode from "vscode";
import { SETTINGS_SECTION, SettingKey } from "./contributionIds";
import { Disposable } from "./lifecycle";
import { readSettingValues, USER_ONLY_SETTINGS, type SettingName, type SettingValues } from "./settingsSchema";

/** Keys read from user settings and defaults only (see USER_ONLY_SETTINGS). */
const USER_ONLY_KEYS: ReadonlySet<string> = new Set(USER_ONLY_SETTINGS.map((name) => SettingKey[name]));

export interface SettingsChangeEvent {
  /** The settings whose validated value changed. */
  readonly changed: ReadonlySet<SettingName>;
}

export class Settings extends Disposable {
  private _values: SettingValues;
  private _problems: readonly string[];
  private readonly _onDidChange = this._register(new vscode.EventEmitter<SettingsChangeEvent>());
  /** Fires after any `slmLab.*` setting changes to a different validated value. */
  readonly onDidChange = this._onDidChange.event;

  constructor(private readonly reportProblems: (problems: readonly string[]) => void) {
    super();
    const { values, problems } = Settings.read();
    this._values = values;
    this._problems = problems;
    if (problems.length > 0) reportProblems(problems);
    this._register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(SETTINGS_SECTION)) this.reload();
      }),
    );
  }

  /** The current, validated values. */
  get values(): SettingValues {
    return this._values;
  }

  /** Invalid values found at the last read (each names the setting and the value used instead). */
  get problems(): readonly string[] {
    return this._problems;
  }

  /** Writes a setting to the user (global) settings. */
  async update<K extends SettingName>(name: K, value: SettingValues[K] | undefined): Promise<void> {
    await vscode.workspace.getConfiguration(SETTINGS_SECTION).update(SettingKey[name], value, vscode.ConfigurationTarget.Global);
    // onDidChangeConfiguration follows; reload now too so a caller reading `values` right after sees the new value.
    this.reload();
  }

  private reload(): void {
    const { values, problems } = Settings.read();
    const changed = new Set<SettingName>();
    for (const name of Object.keys(values) as SettingName[]) {
      // Object-valued settings (completion.languages) are compared by content.
      if (JSON.stringify(values[name]) !== JSON.stringify(this._values[name])) changed.add(name);
    }
    this._values = values;
    const newProblems = problems.filter((problem) => !this._problems.includes(problem));
    this._problems = problems;
    if (newProblems.length > 0) this.reportProblems(newProblems);
    if (changed.size > 0) this._onDidChange.fire({ changed });
  }

  private static read(): ReturnType<typeof readSettingValues> {
    const configuration = vscode.workspace.getConfiguration(SETTINGS_SECTION);
    return readSettingValues((key) => {
      if (!USER_ONLY_KEYS.has(key)) return configuration.get<unknown>(key);
      // Never a workspace's (or workspace folder's) value: it could send the user's code to the workspace's server.
      const inspected = configuration.inspect<unknown>(key);
      return inspected?.globalValue ?? inspected?.defaultValue;
    });
  }
}
