// package.json's contributions and src/vscode/contributionIds.ts must agree, settings defaults and ranges must match
// src/vscode/settingsSchema.ts, and every command id registered in the code must be contributed (and vice versa).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { CommandId, SETTINGS_SECTION, SettingKey, TreeItemContext, ViewContainerId, ViewId } from "../../src/vscode/contributionIds";
import { SETTING_SPECS, type SettingName } from "../../src/vscode/settingsSchema";

const root = path.resolve(__dirname, "..", "..");

interface ManifestCommand {
  readonly command: string;
  readonly title: string;
}
interface ManifestSetting {
  readonly type: string | readonly string[];
  readonly default: unknown;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
}
interface Manifest {
  readonly contributes: {
    readonly commands: readonly ManifestCommand[];
    readonly viewsContainers: { readonly activitybar: readonly { readonly id: string }[] };
    readonly views: Readonly<Record<string, readonly { readonly id: string }[]>>;
    readonly viewsWelcome?: readonly { readonly view: string; readonly contents: string }[];
    readonly menus: Readonly<Record<string, readonly { readonly command: string; readonly when?: string }[]>>;
    readonly configuration: { readonly properties: Readonly<Record<string, ManifestSetting>> };
  };
}

const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as Manifest;
const { contributes } = manifest;

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

describe("contribution ids agree with package.json", () => {
  test("commands", () => {
    assert.deepEqual(sorted(contributes.commands.map((entry) => entry.command)), sorted(Object.values(CommandId)));
  });

  test("view containers and views", () => {
    assert.deepEqual(sorted(contributes.viewsContainers.activitybar.map((entry) => entry.id)), sorted(Object.values(ViewContainerId)));
    assert.deepEqual(sorted(Object.keys(contributes.views)), sorted(Object.values(ViewContainerId)));
    assert.deepEqual(sorted(Object.values(contributes.views).flatMap((views) => views.map((view) => view.id))), sorted(Object.values(ViewId)));
    const viewIds = new Set<string>(Object.values(ViewId));
    for (const welcome of contributes.viewsWelcome ?? []) assert.ok(viewIds.has(welcome.view), `viewsWelcome for unknown view ${welcome.view}`);
  });

  test("settings", () => {
    const declared = sorted(Object.keys(contributes.configuration.properties));
    assert.deepEqual(declared, sorted(Object.values(SettingKey).map((key) => `${SETTINGS_SECTION}.${key}`)));
  });

  test("settings defaults, enums and ranges match the typed settings module", () => {
    for (const name of Object.keys(SETTING_SPECS) as SettingName[]) {
      const spec = SETTING_SPECS[name];
      const declared = contributes.configuration.properties[`${SETTINGS_SECTION}.${SettingKey[name]}`];
      assert.ok(declared, `slmLab.${SettingKey[name]} missing in package.json`);
      assert.deepEqual(declared.default, spec.default, `default of slmLab.${SettingKey[name]}`);
      if (spec.kind === "enum") assert.deepEqual(declared.enum, spec.values, `enum of slmLab.${SettingKey[name]}`);
      if (spec.kind === "integer") {
        assert.equal(declared.type, "integer", `type of slmLab.${SettingKey[name]}`);
        assert.equal(declared.minimum, "minimum" in spec ? spec.minimum : undefined, `minimum of slmLab.${SettingKey[name]}`);
        assert.equal(declared.maximum, "maximum" in spec ? spec.maximum : undefined, `maximum of slmLab.${SettingKey[name]}`);
      }
      if (spec.kind === "boolean" || spec.kind === "string") assert.equal(declared.type, spec.kind, `type of slmLab.${SettingKey[name]}`);
    }
  });

  test("menus name contributed commands and known tree item contexts", () => {
    const commands = new Set<string>(Object.values(CommandId));
    const contexts = Object.values(TreeItemContext) as string[];
    for (const [menu, entries] of Object.entries(contributes.menus)) {
      for (const entry of entries) {
        assert.ok(commands.has(entry.command), `${menu} names unknown command ${entry.command}`);
        const when = entry.when ?? "";
        for (const match of when.matchAll(/viewItem\s*==\s*([\w.]+)/g)) assert.ok(contexts.includes(match[1] ?? ""), `${menu}: unknown viewItem ${match[1]}`);
        for (const match of when.matchAll(/viewItem\s*=~\s*\/(.+?)\/(?:\s|$)/g)) {
          const pattern = new RegExp(match[1] ?? "");
          assert.ok(contexts.some((context) => pattern.test(context)), `${menu}: viewItem pattern ${match[1]} matches no TreeItemContext`);
        }
        for (const match of when.matchAll(/view\s*==\s*([\w.]+)/g)) assert.ok((Object.values(ViewId) as string[]).includes(match[1] ?? ""), `${menu}: unknown view ${match[1]}`);
      }
    }
  });
});

describe("registered commands", () => {
  const files = [path.join(root, "src", "extension.ts"), ...sourceFiles(path.join(root, "src", "vscode"))];

  /** Command ids the code registers: `registerCommand(CommandId.x, …)` and the not-yet-available list. */
  function registeredCommandNames(): string[] {
    const names: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/registerCommand\(\s*([^,)]+)/g)) {
        const argument = (match[1] ?? "").trim();
        const named = /^CommandId\.(\w+)$/.exec(argument);
        if (named?.[1] !== undefined) names.push(named[1]);
        else if (path.basename(file) !== "unavailableCommands.ts") assert.fail(`${path.relative(root, file)} registers ${argument}: use CommandId.<name>`);
      }
      if (path.basename(file) === "unavailableCommands.ts") {
        for (const entry of text.matchAll(/\[CommandId\.(\w+),\s*"/g)) names.push(entry[1] ?? "");
      }
    }
    return names;
  }

  test("every contributed command is registered exactly once, and nothing else", () => {
    const names = registeredCommandNames();
    const duplicates = names.filter((name, index) => names.indexOf(name) !== index);
    assert.deepEqual(duplicates, [], "registered twice (a real implementation must leave the not-available list)");
    for (const name of names) assert.ok(Object.hasOwn(CommandId, name), `CommandId.${name} does not exist`);
    assert.deepEqual(sorted(names.map((name) => CommandId[name as keyof typeof CommandId])), sorted(contributes.commands.map((entry) => entry.command)));
  });

  test("only src/vscode/settings.ts reads the slmLab configuration", () => {
    for (const file of [...files, ...sourceFiles(path.join(root, "src"))]) {
      if (path.basename(file) === "settings.ts") continue;
      const text = readFileSync(file, "utf8");
      assert.doesNotMatch(text, /getConfiguration\(\s*(SETTINGS_SECTION|["'`]slmLab)/, `${path.relative(root, file)} reads slmLab settings itself`);
    }
  });
});
