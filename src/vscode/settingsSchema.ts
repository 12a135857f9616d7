/**
 * What each `slmLab.*` setting may hold, its default, and how a raw value is validated. Pure (no `vscode` import), so
 * test/unit/contributionIds.test.ts can check it against package.json; `settings.ts` is the one module that reads them.
 */

import { SettingKey } from "./contributionIds";

export const COMPLETION_ENGINES = ["local", "openai", "llama-server", "ollama"] as const;
export type CompletionEngine = (typeof COMPLETION_ENGINES)[number];

/** `slmLab.gpuLayers`: a layer count, or "auto" (let llama.cpp fit as many as memory allows). */
export type GpuLayers = "auto" | number;

interface IntegerSpec {
  readonly kind: "integer";
  readonly default: number;
  readonly minimum?: number;
  readonly maximum?: number;
}
interface BooleanSpec {
  readonly kind: "boolean";
  readonly default: boolean;
}
/** A free string; `uri` ones must be http(s) URLs (or empty when `default` is empty). */
interface StringSpec {
  readonly kind: "string";
  readonly default: string;
  readonly format?: "uri";
}
interface EnumSpec<V extends string> {
  readonly kind: "enum";
  readonly default: V;
  readonly values: readonly V[];
}
interface GpuLayersSpec {
  readonly kind: "gpuLayers";
  readonly default: GpuLayers;
}
/** An object of language id → on/off, with `"*"` for every other language (`slmLab.completion.languages`). */
export type LanguageSwitches = Readonly<Record<string, boolean>>;
interface LanguageSwitchesSpec {
  readonly kind: "languageSwitches";
  readonly default: LanguageSwitches;
}
export type SettingSpec = IntegerSpec | BooleanSpec | StringSpec | EnumSpec<string> | GpuLayersSpec | LanguageSwitchesSpec;

/** Keyed by the property names of `SettingKey`; `key` is the id under the `slmLab` section. */
export const SETTING_SPECS = {
  modelsDirectory: { kind: "string", default: "" },
  scanHuggingFaceCache: { kind: "boolean", default: true },
  hubEndpoint: { kind: "string", default: "https://huggingface.co", format: "uri" },
  threads: { kind: "integer", default: 0, minimum: 0, maximum: 256 },
  gpuLayers: { kind: "gpuLayers", default: "auto" },
  completionEnabled: { kind: "boolean", default: false },
  completionModel: { kind: "string", default: "" },
  completionEngine: { kind: "enum", default: "local", values: COMPLETION_ENGINES },
  completionEndpoint: { kind: "string", default: "", format: "uri" },
  completionDebounceMs: { kind: "integer", default: 150, minimum: 0, maximum: 5000 },
  completionMaxTokens: { kind: "integer", default: 64, minimum: 1, maximum: 1024 },
  completionContextSize: { kind: "integer", default: 4096, minimum: 256, maximum: 131072 },
  completionLanguages: { kind: "languageSwitches", default: { "*": true, markdown: false, plaintext: false } },
  completionTimeBudgetMs: { kind: "integer", default: 3000, minimum: 100, maximum: 60000 },
  completionLogPrompts: { kind: "boolean", default: false },
  completionEndpointModel: { kind: "string", default: "" },
  benchPromptTokens: { kind: "integer", default: 512, minimum: 1 },
  benchGenerateTokens: { kind: "integer", default: 128, minimum: 1 },
  benchRepetitions: { kind: "integer", default: 3, minimum: 1, maximum: 50 },
  benchEvalText: { kind: "string", default: "" },
} as const satisfies Record<keyof typeof SettingKey, SettingSpec>;

export type SettingName = keyof typeof SETTING_SPECS;

/**
 * Settings that decide where the user's code goes or what code runs: read from user (global) settings and defaults
 * only, never from a workspace (an untrusted folder could otherwise send the code to its own server). package.json
 * gives each `machine` or `application` scope as well.
 */
export const USER_ONLY_SETTINGS: readonly SettingName[] = ["completionEngine", "completionEndpoint", "completionModel", "completionEndpointModel"];

type ValueOf<S> = S extends IntegerSpec
  ? number
  : S extends BooleanSpec
    ? boolean
    : S extends EnumSpec<infer V>
      ? V
      : S extends GpuLayersSpec
        ? GpuLayers
        : S extends LanguageSwitchesSpec
          ? LanguageSwitches
          : string;

/** Every setting, validated and typed. */
export type SettingValues = { readonly [K in SettingName]: ValueOf<(typeof SETTING_SPECS)[K]> };

export interface SettingsReadResult {
  readonly values: SettingValues;
  /** One line per invalid value, naming the setting, what was wrong and the value used instead. */
  readonly problems: readonly string[];
}

/** Validates every setting; an invalid value falls back to the default (or is clamped) and is reported. */
export function readSettingValues(getRaw: (key: SettingKey) => unknown): SettingsReadResult {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(SETTING_SPECS) as SettingName[]) {
    const key = SettingKey[name];
    const raw = getRaw(key);
    const { value, problem } = validateSetting(SETTING_SPECS[name], raw);
    values[name] = value;
    if (problem !== undefined) problems.push(`slmLab.${key}: ${problem}`);
  }
  return { values: values as SettingValues, problems };
}

interface Validated {
  readonly value: unknown;
  readonly problem?: string;
}

/** Validates one raw value against its spec; `undefined` (unset) always means the default, silently. */
export function validateSetting(spec: SettingSpec, raw: unknown): Validated {
  if (raw === undefined || raw === null) return { value: spec.default };
  const fallback = (why: string): Validated => ({ value: spec.default, problem: `${why}; using ${JSON.stringify(spec.default)}.` });
  switch (spec.kind) {
    case "boolean":
      return typeof raw === "boolean" ? { value: raw } : fallback(`expected true or false, got ${JSON.stringify(raw)}`);
    case "integer":
      return validateInteger(spec, raw);
    case "enum":
      return typeof raw === "string" && spec.values.includes(raw)
        ? { value: raw }
        : fallback(`expected one of ${spec.values.map((v) => `"${v}"`).join(", ")}, got ${JSON.stringify(raw)}`);
    case "gpuLayers":
      if (raw === "auto") return { value: "auto" };
      if (typeof raw === "number" && Number.isInteger(raw) && raw >= 0) return { value: raw };
      if (typeof raw === "string" && /^\d+$/.test(raw.trim())) return { value: Number(raw.trim()) };
      return fallback(`expected a whole number of layers or "auto", got ${JSON.stringify(raw)}`);
    case "languageSwitches": {
      if (typeof raw !== "object" || Array.isArray(raw)) return fallback(`expected an object of language id to true/false, got ${JSON.stringify(raw)}`);
      const entries = Object.entries(raw as Record<string, unknown>);
      const bad = entries.filter(([, value]) => typeof value !== "boolean").map(([key]) => key);
      const switches = Object.fromEntries(entries.filter(([, value]) => typeof value === "boolean"));
      return bad.length === 0 ? { value: switches } : { value: switches, problem: `${bad.map((key) => `"${key}"`).join(", ")} must be true or false; ignored.` };
    }
    case "string": {
      if (typeof raw !== "string") return fallback(`expected a string, got ${JSON.stringify(raw)}`);
      const trimmed = raw.trim();
      if (spec.format === "uri" && trimmed !== "" && !isHttpUrl(trimmed)) return fallback(`"${trimmed}" is not an http(s) URL`);
      if (spec.format === "uri" && trimmed === "" && spec.default !== "") return fallback("must not be empty");
      return { value: spec.format === "uri" ? trimmed.replace(/\/+$/, "") : trimmed };
    }
  }
}

function validateInteger(spec: IntegerSpec, raw: unknown): Validated {
  if (typeof raw !== "number" || !Number.isFinite(raw)) {
    return { value: spec.default, problem: `expected a whole number, got ${JSON.stringify(raw)}; using ${spec.default}.` };
  }
  let value = Math.round(raw);
  let problem: string | undefined;
  if (spec.minimum !== undefined && value < spec.minimum) {
    value = spec.minimum;
    problem = `${raw} is below the minimum ${spec.minimum}; using ${value}.`;
  } else if (spec.maximum !== undefined && value > spec.maximum) {
    value = spec.maximum;
    problem = `${raw} is above the maximum ${spec.maximum}; using ${value}.`;
  } else if (value !== raw) {
    problem = `${raw} is not a whole number; using ${value}.`;
  }
  return problem === undefined ? { value } : { value, problem };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
