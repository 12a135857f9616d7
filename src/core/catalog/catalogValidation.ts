/**
 * Schema check of the curated catalog at load time. The JSON is data edited by hand, so every field is checked and
 * unknown keys are refused (a typo must not silently drop a fact). All problems are collected and reported together,
 * each with its JSON path, in one CatalogFormatError.
 */
import { UserError } from "../errors";
import { llamaFileTypeByName } from "../gguf/llamaFileTypes";
import {
  AVAILABILITY_STATES,
  CATALOG_TAGS,
  FACT_GROUPS,
  FIM_TEMPLATES,
  GGUF_PUBLISHERS,
  MODEL_VARIANTS,
  VERIFICATION_STATUSES,
  type CatalogAvailability,
  type CatalogEntry,
  type CatalogLicense,
  type CatalogRepositories,
  type CatalogTag,
  type CuratedCatalog,
  type FactCheck,
  type FactGroup,
  type FimTokens,
  type GgufSource,
} from "./catalogTypes";
import { SIZE_CLASS_SPECS, sizeClassOf } from "./sizeClasses";

/** The catalog data is malformed: `problems` lists every one, as `path: what is wrong`. */
export class CatalogFormatError extends UserError {
  constructor(
    readonly origin: string,
    readonly problems: readonly string[],
  ) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : "";
    super(`${origin} is not a valid model catalog: ${problems[0] ?? "unknown problem"}${more}`, {
      action: "Fix the catalog data; every problem is listed in the error's details.",
    });
    this.name = "CatalogFormatError";
  }
}

/** Hugging Face repo ids: "owner/name", letters, digits, '-', '_', '.'. */
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ENTRY_ID = /^[a-z0-9][a-z0-9.-]*$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const GOOD_FOR_MAX = 120;

type JsonObject = Readonly<Record<string, unknown>>;

/** Collects problems while reading; each reader returns a value only when its input is valid. */
class Reader {
  readonly problems: string[] = [];

  fail(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  /** An object with exactly these keys (`optional` may be missing); `"any"` allows other keys too (free-form maps). */
  object(value: unknown, path: string, required: readonly string[], optional: readonly string[] | "any" = []): JsonObject | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(path, `expected an object, got ${describe(value)}`);
      return undefined;
    }
    const record = value as JsonObject;
    for (const key of required) if (!(key in record)) this.fail(path, `missing "${key}"`);
    for (const key of Object.keys(record)) {
      if (optional !== "any" && !required.includes(key) && !optional.includes(key)) this.fail(`${path}.${key}`, "unknown property");
    }
    return record;
  }

  string(value: unknown, path: string): string | undefined {
    if (typeof value !== "string" || value.trim() === "") {
      this.fail(path, `expected a non-empty string, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  optionalString(value: unknown, path: string): string | undefined {
    return value === undefined ? undefined : this.string(value, path);
  }

  url(value: unknown, path: string): string | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    if (!/^https:\/\/[^\s/]+\/\S*$/.test(text)) {
      this.fail(path, `expected an https URL, got "${text}"`);
      return undefined;
    }
    return text;
  }

  repoId(value: unknown, path: string): string | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    if (!REPO_ID.test(text)) {
      this.fail(path, `expected a Hugging Face repo id "owner/name", got "${text}"`);
      return undefined;
    }
    return text;
  }

  positiveNumber(value: unknown, path: string, integer: boolean): number | undefined {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      this.fail(path, `expected a positive ${integer ? "integer" : "number"}, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (typeof value !== "boolean") {
      this.fail(path, `expected true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T | undefined {
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      this.fail(path, `expected one of ${allowed.join(", ")}, got ${describe(value)}`);
      return undefined;
    }
    return value as T;
  }

  array(value: unknown, path: string, allowEmpty: boolean): readonly unknown[] | undefined {
    if (!Array.isArray(value)) {
      this.fail(path, `expected an array, got ${describe(value)}`);
      return undefined;
    }
    if (!allowEmpty && value.length === 0) {
      this.fail(path, "must not be empty");
      return undefined;
    }
    return value as readonly unknown[];
  }

  /** Every item read with `item`; undefined when the array or any item is invalid. */
  list<T>(value: unknown, path: string, allowEmpty: boolean, item: (value: unknown, path: string) => T | undefined): T[] | undefined {
    const items = this.array(value, path, allowEmpty);
    if (items === undefined) return undefined;
    const read = items.map((element, index) => item(element, `${path}[${index}]`));
    return read.every((element): element is T => element !== undefined) ? read : undefined;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === "object") return "an object";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

/** Validates catalog data read from `origin` (a file name, for messages) and returns it typed. */
export function parseCuratedCatalog(data: unknown, origin: string): CuratedCatalog {
  const reader = new Reader();
  const catalog = readCatalog(reader, data);
  if (reader.problems.length > 0 || catalog === undefined) throw new CatalogFormatError(origin, reader.problems);
  return catalog;
}

function readCatalog(reader: Reader, data: unknown): CuratedCatalog | undefined {
  const root = reader.object(data, "$", ["schemaVersion", "reviewed", "sharedSources", "entries"]);
  if (root === undefined) return undefined;
  if (root["schemaVersion"] !== 1) reader.fail("$.schemaVersion", `expected 1, got ${describe(root["schemaVersion"])}`);
  const reviewed = reader.string(root["reviewed"], "$.reviewed");
  if (reviewed !== undefined && !ISO_DATE.test(reviewed)) reader.fail("$.reviewed", `expected a date YYYY-MM-DD, got "${reviewed}"`);

  const sharedSources: Record<string, string> = {};
  const shared = reader.object(root["sharedSources"], "$.sharedSources", [], "any");
  if (shared !== undefined) {
    for (const [key, value] of Object.entries(shared)) {
      const text = reader.string(value, `$.sharedSources.${key}`);
      if (text !== undefined) sharedSources[key] = text;
    }
  }

  const entries = reader.list(root["entries"], "$.entries", false, (value, path) => readEntry(reader, value, path));
  if (entries !== undefined) checkUniqueIds(reader, entries);
  if (reviewed === undefined || entries === undefined) return undefined;
  return { schemaVersion: 1, reviewed, sharedSources, entries };
}

function checkUniqueIds(reader: Reader, entries: readonly CatalogEntry[]): void {
  const seen = new Map<string, number>();
  entries.forEach((entry, index) => {
    const first = seen.get(entry.id);
    if (first === undefined) seen.set(entry.id, index);
    else reader.fail(`$.entries[${index}].id`, `duplicate id "${entry.id}" (first at $.entries[${first}])`);
  });
}

const ENTRY_REQUIRED = [
  "id",
  "displayName",
  "family",
  "parameters",
  "contextLength",
  "license",
  "goodFor",
  "tags",
  "repositories",
  "availability",
  "gated",
  "verification",
  "sources",
] as const;
const ENTRY_OPTIONAL = ["contextNote", "fim", "notes"] as const;

function readEntry(reader: Reader, value: unknown, path: string): CatalogEntry | undefined {
  const raw = reader.object(value, path, ENTRY_REQUIRED, ENTRY_OPTIONAL);
  if (raw === undefined) return undefined;
  const before = reader.problems.length;

  const id = reader.string(raw["id"], `${path}.id`);
  if (id !== undefined && !ENTRY_ID.test(id)) reader.fail(`${path}.id`, `expected lower-case letters, digits, '.' and '-', got "${id}"`);
  const displayName = reader.string(raw["displayName"], `${path}.displayName`);
  const family = reader.string(raw["family"], `${path}.family`);
  const parameters = reader.positiveNumber(raw["parameters"], `${path}.parameters`, true);
  if (parameters !== undefined && sizeClassOf(parameters) === undefined) {
    const { micro, medium } = SIZE_CLASS_SPECS;
    reader.fail(`${path}.parameters`, `${parameters} is outside every size class (${micro.min / 1e9}B to ${medium.max / 1e9}B)`);
  }
  const contextLength = reader.positiveNumber(raw["contextLength"], `${path}.contextLength`, true);
  const contextNote = reader.optionalString(raw["contextNote"], `${path}.contextNote`);
  const license = readLicense(reader, raw["license"], `${path}.license`);
  const goodFor = reader.string(raw["goodFor"], `${path}.goodFor`);
  if (goodFor !== undefined && goodFor.length > GOOD_FOR_MAX) reader.fail(`${path}.goodFor`, `keep it short: ${goodFor.length} characters, at most ${GOOD_FOR_MAX}`);
  const tags = readTags(reader, raw["tags"], `${path}.tags`);
  const repositories = readRepositories(reader, raw["repositories"], `${path}.repositories`);
  const availability = readAvailability(reader, raw["availability"], `${path}.availability`);
  const gated = reader.boolean(raw["gated"], `${path}.gated`);
  const fim = raw["fim"] === undefined ? undefined : readFim(reader, raw["fim"], `${path}.fim`);
  const notes = raw["notes"] === undefined ? undefined : reader.list(raw["notes"], `${path}.notes`, true, (note, notePath) => reader.string(note, notePath));
  const sources = reader.list(raw["sources"], `${path}.sources`, false, (source, sourcePath) => reader.url(source, sourcePath));

  const hasFim = tags?.includes("fim") === true;
  if (hasFim && raw["fim"] === undefined) reader.fail(`${path}.fim`, 'the "fim" tag needs the FIM tokens');
  if (!hasFim && raw["fim"] !== undefined && tags !== undefined) reader.fail(`${path}.fim`, 'FIM tokens without the "fim" tag');
  const verification = readVerification(reader, raw["verification"], `${path}.verification`, hasFim, availability);

  if (reader.problems.length > before) return undefined;
  if (
    id === undefined || displayName === undefined || family === undefined || parameters === undefined || contextLength === undefined ||
    license === undefined || goodFor === undefined || tags === undefined || repositories === undefined || availability === undefined ||
    gated === undefined || verification === undefined || sources === undefined
  ) {
    return undefined;
  }
  return {
    id,
    displayName,
    family,
    parameters,
    contextLength,
    ...(contextNote === undefined ? {} : { contextNote }),
    license,
    goodFor,
    tags,
    repositories,
    availability,
    gated,
    ...(fim === undefined ? {} : { fim }),
    ...(notes === undefined ? {} : { notes }),
    verification,
    sources,
  };
}

function readLicense(reader: Reader, value: unknown, path: string): CatalogLicense | undefined {
  const raw = reader.object(value, path, ["id", "name", "url"]);
  if (raw === undefined) return undefined;
  const id = reader.string(raw["id"], `${path}.id`);
  const name = reader.string(raw["name"], `${path}.name`);
  const url = reader.url(raw["url"], `${path}.url`);
  return id === undefined || name === undefined || url === undefined ? undefined : { id, name, url };
}

function readTags(reader: Reader, value: unknown, path: string): CatalogTag[] | undefined {
  const tags = reader.list(value, path, false, (tag, tagPath) => reader.oneOf(tag, CATALOG_TAGS, tagPath));
  if (tags === undefined) return undefined;
  const duplicate = tags.find((tag, index) => tags.indexOf(tag) !== index);
  if (duplicate !== undefined) {
    reader.fail(path, `tag "${duplicate}" appears twice`);
    return undefined;
  }
  return tags;
}

function readRepositories(reader: Reader, value: unknown, path: string): CatalogRepositories | undefined {
  const raw = reader.object(value, path, ["safetensors", "variant", "gguf"]);
  if (raw === undefined) return undefined;
  const safetensors = reader.repoId(raw["safetensors"], `${path}.safetensors`);
  const variant = reader.oneOf(raw["variant"], MODEL_VARIANTS, `${path}.variant`);
  const gguf = reader.list(raw["gguf"], `${path}.gguf`, true, (source, sourcePath) => readGgufSource(reader, source, sourcePath));
  if (gguf !== undefined) {
    const repos = gguf.map((source) => source.repo);
    const duplicate = repos.find((repo, index) => repos.indexOf(repo) !== index);
    if (duplicate !== undefined) reader.fail(`${path}.gguf`, `repo "${duplicate}" is listed twice`);
  }
  return safetensors === undefined || variant === undefined || gguf === undefined ? undefined : { safetensors, variant, gguf };
}

function readGgufSource(reader: Reader, value: unknown, path: string): GgufSource | undefined {
  const raw = reader.object(value, path, ["repo", "publisher", "variant", "files", "quantTags"], ["filePattern", "note"]);
  if (raw === undefined) return undefined;
  const repo = reader.repoId(raw["repo"], `${path}.repo`);
  const publisher = reader.oneOf(raw["publisher"], GGUF_PUBLISHERS, `${path}.publisher`);
  const variant = reader.oneOf(raw["variant"], MODEL_VARIANTS, `${path}.variant`);
  const files = reader.list(raw["files"], `${path}.files`, true, (file, filePath) => {
    const name = reader.string(file, filePath);
    if (name === undefined) return undefined;
    if (!name.endsWith(".gguf") || name.includes("/")) {
      reader.fail(filePath, `expected a .gguf file name without folders, got "${name}"`);
      return undefined;
    }
    return name;
  });
  const quantTags = reader.list(raw["quantTags"], `${path}.quantTags`, true, (tag, tagPath) => {
    const name = reader.string(tag, tagPath);
    if (name === undefined) return undefined;
    if (llamaFileTypeByName(name) === undefined) {
      reader.fail(tagPath, `"${name}" is not a llama.cpp file type`);
      return undefined;
    }
    return name;
  });
  const filePattern = reader.optionalString(raw["filePattern"], `${path}.filePattern`);
  if (filePattern !== undefined && !/\{(QUANT|quant)\}/.test(filePattern)) reader.fail(`${path}.filePattern`, 'expected "{QUANT}" or "{quant}" in the pattern');
  const note = reader.optionalString(raw["note"], `${path}.note`);
  // A source with neither a confirmed file nor a confirmed quantization must say why it is listed.
  if (files?.length === 0 && quantTags?.length === 0 && note === undefined) reader.fail(path, 'no confirmed file or quantization: add a "note" saying what is unknown');
  if (repo === undefined || publisher === undefined || variant === undefined || files === undefined || quantTags === undefined) return undefined;
  return {
    repo,
    publisher,
    variant,
    files,
    quantTags,
    ...(filePattern === undefined ? {} : { filePattern }),
    ...(note === undefined ? {} : { note }),
  };
}

function readAvailability(reader: Reader, value: unknown, path: string): CatalogAvailability | undefined {
  const raw = reader.object(value, path, ["azureAiFoundry", "foundryLocal"], ["foundryLocalAlias"]);
  if (raw === undefined) return undefined;
  const azureAiFoundry = reader.oneOf(raw["azureAiFoundry"], AVAILABILITY_STATES, `${path}.azureAiFoundry`);
  const foundryLocal = reader.oneOf(raw["foundryLocal"], AVAILABILITY_STATES, `${path}.foundryLocal`);
  const alias = reader.optionalString(raw["foundryLocalAlias"], `${path}.foundryLocalAlias`);
  if (foundryLocal === "listed" && alias === undefined) reader.fail(`${path}.foundryLocalAlias`, "a model listed in Foundry Local needs its alias");
  if (foundryLocal !== undefined && foundryLocal !== "listed" && alias !== undefined) reader.fail(`${path}.foundryLocalAlias`, "an alias for a model not listed in Foundry Local");
  if (azureAiFoundry === undefined || foundryLocal === undefined) return undefined;
  return { azureAiFoundry, foundryLocal, ...(alias === undefined ? {} : { foundryLocalAlias: alias }) };
}

function readFim(reader: Reader, value: unknown, path: string): FimTokens | undefined {
  const raw = reader.object(value, path, ["template", "prefix", "suffix", "middle"], ["fileSeparator", "repoName"]);
  if (raw === undefined) return undefined;
  const template = reader.oneOf(raw["template"], FIM_TEMPLATES, `${path}.template`);
  const prefix = reader.string(raw["prefix"], `${path}.prefix`);
  const suffix = reader.string(raw["suffix"], `${path}.suffix`);
  const middle = reader.string(raw["middle"], `${path}.middle`);
  const fileSeparator = reader.optionalString(raw["fileSeparator"], `${path}.fileSeparator`);
  const repoName = reader.optionalString(raw["repoName"], `${path}.repoName`);
  if (template === undefined || prefix === undefined || suffix === undefined || middle === undefined) return undefined;
  return {
    template,
    prefix,
    suffix,
    middle,
    ...(fileSeparator === undefined ? {} : { fileSeparator }),
    ...(repoName === undefined ? {} : { repoName }),
  };
}

function readVerification(
  reader: Reader,
  value: unknown,
  path: string,
  hasFim: boolean,
  availability: CatalogAvailability | undefined,
): Partial<Record<FactGroup, FactCheck>> | undefined {
  const required = FACT_GROUPS.filter((group) => group !== "fim" || hasFim);
  const raw = reader.object(value, path, required);
  if (raw === undefined) return undefined;
  const checks: Partial<Record<FactGroup, FactCheck>> = {};
  for (const group of required) {
    const check = readFactCheck(reader, raw[group], `${path}.${group}`);
    if (check !== undefined) checks[group] = check;
  }
  // An availability state of "unknown" is itself an unverified fact: the record must say so.
  const availabilityCheck = checks.availability;
  if (
    availability !== undefined && availabilityCheck !== undefined && availabilityCheck.note === undefined &&
    (availability.azureAiFoundry === "unknown" || availability.foundryLocal === "unknown")
  ) {
    reader.fail(`${path}.availability`, 'an "unknown" availability needs a note saying what was not confirmed');
  }
  return Object.keys(checks).length === required.length ? checks : undefined;
}

function readFactCheck(reader: Reader, value: unknown, path: string): FactCheck | undefined {
  const raw = reader.object(value, path, ["status", "sources"], ["note"]);
  if (raw === undefined) return undefined;
  const status = reader.oneOf(raw["status"], VERIFICATION_STATUSES, `${path}.status`);
  const sources = reader.list(raw["sources"], `${path}.sources`, true, (source, sourcePath) => reader.url(source, sourcePath));
  const note = reader.optionalString(raw["note"], `${path}.note`);
  if (status === "unverified" && note === undefined) reader.fail(`${path}.note`, "an unverified fact needs a note saying what is unknown");
  if (status !== undefined && status !== "unverified" && sources?.length === 0) reader.fail(`${path}.sources`, `a ${status} fact needs at least one source`);
  if (status === undefined || sources === undefined) return undefined;
  return { status, sources, ...(note === undefined ? {} : { note }) };
}
