/**
 * Special tokens, add-bos/eos flags, merges and chat template of a checkpoint, as gguf-py's `SpecialVocab`
 * (gguf-py/gguf/vocab.py) collects them: first from tokenizer.json (merges, normalizer flags, the post-processor's
 * TemplateProcessing) and tokenizer_config.json (`*_token`, `add_*_token`, `chat_template`), then from config.json
 * (`*_token_id`). For each special token the first source that names a valid id wins.
 */
import type { GgufValue } from "../../gguf/ggufTypes";
import { configTokenContent, isObject, type HfChatTemplate, type HfTokenizerFiles } from "./hfTokenizerFiles";

/** gguf-py SpecialVocab's default special token types. */
export const DEFAULT_SPECIAL_TOKEN_TYPES = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"] as const;

/** GGUF key of each special token type that gguf-py's writer has a handler for (`cls` has none: it is skipped). */
const SPECIAL_TOKEN_ID_KEYS: Readonly<Record<string, string>> = {
  bos: "tokenizer.ggml.bos_token_id",
  eos: "tokenizer.ggml.eos_token_id",
  unk: "tokenizer.ggml.unknown_token_id",
  // Misspelt in llama.cpp too (gguf-py constants.py Keys.Tokenizer.SEP_ID).
  sep: "tokenizer.ggml.seperator_token_id",
  pad: "tokenizer.ggml.padding_token_id",
  mask: "tokenizer.ggml.mask_token_id",
  eot: "tokenizer.ggml.eot_token_id",
  eom: "tokenizer.ggml.eom_token_id",
};

const ADD_TOKEN_KEYS: Readonly<Record<string, string>> = {
  bos: "tokenizer.ggml.add_bos_token",
  eos: "tokenizer.ggml.add_eos_token",
  sep: "tokenizer.ggml.add_sep_token",
};

export interface SpecialVocab {
  /** Merges in GGUF form ("left right", spaces inside a part written as U+0120), or empty when not loaded. */
  readonly merges: readonly string[];
  /** Special token type → id, in the order they were found. */
  readonly specialTokenIds: ReadonlyMap<string, number>;
  /** add_bos / add_eos / add_sep flags. */
  readonly addSpecialToken: ReadonlyMap<string, boolean>;
  readonly chatTemplate: HfChatTemplate | undefined;
  readonly normalizerLowercase: boolean | undefined;
  readonly normalizerStripAccents: boolean | undefined;
}

export interface SpecialVocabOptions {
  readonly loadMerges: boolean;
  /** Ids at or above this are skipped (gguf-py `n_vocab`); undefined: no limit. */
  readonly vocabSize?: number;
  /** config.json fields (`bos_token_id`, …), `text_config` merged in. */
  readonly configValue: (key: string) => unknown;
}

/** Collects the special vocabulary of a checkpoint as gguf-py's SpecialVocab does. */
export function loadSpecialVocab(files: HfTokenizerFiles, options: SpecialVocabOptions): SpecialVocab {
  const specialTokenIds = new Map<string, number>();
  const addSpecialToken = new Map<string, boolean>();
  const tokenTypes: string[] = [...DEFAULT_SPECIAL_TOKEN_TYPES];
  const setSpecialToken = (type: string, id: unknown): void => {
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) return;
    if (options.vocabSize !== undefined && id >= options.vocabSize) return;
    if (!specialTokenIds.has(type)) specialTokenIds.set(type, id);
  };

  const merges = options.loadMerges ? files.model.merges.map(([left, right]) => (files.model.mergesAsStrings ? `${left} ${right}` : `${encodeSpaces(left)} ${encodeSpaces(right)}`)) : [];
  const normalizer = { lowercase: undefined as boolean | undefined, stripAccents: undefined as boolean | undefined };
  parseNormalizer(files.tokenizerJson["normalizer"], normalizer);

  // A working copy: like gguf-py, the post-processor parsing may fill in tokens the config leaves out.
  const config: Record<string, unknown> | undefined = files.tokenizerConfig === undefined ? undefined : { ...files.tokenizerConfig };
  let specialBos = configTokenContent(config, "bos_token");
  let specialCls = configTokenContent(config, "cls_token");
  let specialEos = configTokenContent(config, "eos_token");
  let specialSep = configTokenContent(config, "sep_token");
  if (specialBos === undefined && specialCls !== undefined && config !== undefined) config["bos_token"] = specialBos = specialCls;
  if (specialEos === undefined && specialSep !== undefined && config !== undefined) config["eos_token"] = specialEos = specialSep;

  const postProcessor = files.tokenizerJson["post_processor"];
  if (isObject(postProcessor)) {
    const processors = Array.isArray(postProcessor["processors"]) ? (postProcessor["processors"] as unknown[]) : [postProcessor];
    for (const processor of processors) {
      if (!isObject(processor)) continue;
      if (processor["type"] === "RobertaProcessing") {
        addSpecialToken.set("bos", true);
        addSpecialToken.set("eos", true);
        addSpecialToken.set("sep", true);
        if (specialCls === undefined && config !== undefined) config["cls_token"] = specialCls = firstString(processor["cls"]) ?? specialBos;
        if (specialSep === undefined && config !== undefined) config["sep_token"] = specialSep = firstString(processor["sep"]) ?? specialEos;
        continue;
      }
      if (processor["type"] !== "TemplateProcessing") continue;
      // gguf-py's "crude parsing" of TemplateProcessing: a leading special token of the single-sequence template
      // means add-bos, a trailing one add-eos (an unexpected trailing token becomes EOS, the old EOS EOT/EOM).
      const single = Array.isArray(processor["single"]) ? (processor["single"] as unknown[]) : [];
      if (single.length > 1) {
        const first = specialTokenIdOf(single[0]);
        if (first !== undefined) {
          if (config === undefined) specialBos = first;
          else if (first !== specialBos && first !== specialCls) {
            if (specialBos === undefined) config["bos_token"] = specialBos = first;
            if (specialCls === undefined) config["cls_token"] = specialCls = first;
          }
          addSpecialToken.set("bos", first === specialBos || first === specialCls);
        }
        const last = specialTokenIdOf(single[single.length - 1]);
        if (last !== undefined) {
          if (config === undefined) specialEos = last;
          else if (last !== specialEos) {
            if (!tokenTypes.includes("eot")) {
              tokenTypes.push("eot");
              config["eot_token"] = specialEos;
            } else if (!tokenTypes.includes("eom")) {
              tokenTypes.push("eom");
              config["eom_token"] = specialEos;
            }
            config["eos_token"] = specialEos = last;
          }
          addSpecialToken.set("eos", last === specialEos);
        }
      }
    }
  }
  if (config === undefined) {
    for (const type of tokenTypes) setSpecialToken(type, options.configValue(`${type}_token_id`));
    return { merges, specialTokenIds, addSpecialToken, chatTemplate: undefined, normalizerLowercase: normalizer.lowercase, normalizerStripAccents: normalizer.stripAccents };
  }
  for (const type of tokenTypes) {
    const add = config[`add_${type}_token`];
    if (typeof add === "boolean") addSpecialToken.set(type, add);
    const content = configTokenContent(config, `${type}_token`);
    if (content === undefined) continue;
    // gguf-py looks the content up among tokenizer.json's added tokens only, first match.
    setSpecialToken(type, files.addedTokens.find((token) => token.content === content)?.id);
  }
  for (const type of tokenTypes) setSpecialToken(type, options.configValue(`${type}_token_id`));
  return {
    merges,
    specialTokenIds,
    addSpecialToken,
    chatTemplate: files.chatTemplate,
    normalizerLowercase: normalizer.lowercase,
    normalizerStripAccents: normalizer.stripAccents,
  };
}

/** The GGUF metadata of a special vocabulary, in gguf-py `SpecialVocab.add_to_gguf` order. */
export function specialVocabMetadata(vocab: SpecialVocab): [string, GgufValue][] {
  const entries: [string, GgufValue][] = [];
  if (vocab.merges.length > 0) entries.push(["tokenizer.ggml.merges", { type: "array", itemType: "string", values: vocab.merges }]);
  for (const [type, id] of vocab.specialTokenIds) {
    const key = SPECIAL_TOKEN_ID_KEYS[type];
    if (key !== undefined) entries.push([key, { type: "u32", value: id }]);
  }
  for (const [type, add] of vocab.addSpecialToken) {
    const key = ADD_TOKEN_KEYS[type];
    if (key !== undefined) entries.push([key, { type: "bool", value: add }]);
  }
  entries.push(...chatTemplateMetadata(vocab.chatTemplate));
  if (vocab.normalizerLowercase !== undefined) entries.push(["tokenizer.ggml.normalizer.lowercase", { type: "bool", value: vocab.normalizerLowercase }]);
  if (vocab.normalizerStripAccents !== undefined) entries.push(["tokenizer.ggml.normalizer.strip_accents", { type: "bool", value: vocab.normalizerStripAccents }]);
  return entries;
}

/** gguf-py `GGUFWriter.add_chat_template`: a string, or named templates with "default" as the main one. */
function chatTemplateMetadata(template: HfChatTemplate | undefined): [string, GgufValue][] {
  if (template === undefined) return [];
  if (typeof template === "string") return [["tokenizer.chat_template", { type: "string", value: template }]];
  const entries: [string, GgufValue][] = [];
  const names: string[] = [];
  let main: string | undefined;
  for (const choice of template) {
    const name = choice.name.replace(/[^A-Za-z0-9]/g, "_");
    if (name === "") continue;
    if (name === "default") main = choice.template;
    else if (!names.includes(name)) {
      names.push(name);
      entries.push([`tokenizer.chat_template.${name}`, { type: "string", value: choice.template }]);
    }
  }
  if (names.length > 0) entries.push(["tokenizer.chat_templates", { type: "array", itemType: "string", values: names }]);
  if (main !== undefined) entries.push(["tokenizer.chat_template", { type: "string", value: main }]);
  return entries;
}

/** Since transformers 4.45 merges are pairs and may contain spaces; GGUF keeps "a b" strings, spaces as U+0120. */
function encodeSpaces(part: string): string {
  return part.replaceAll(" ", String.fromCharCode(" ".charCodeAt(0) + 256));
}

function parseNormalizer(value: unknown, into: { lowercase: boolean | undefined; stripAccents: boolean | undefined }): void {
  if (!isObject(value)) return;
  const type = value["type"];
  if (type === "Lowercase") into.lowercase = true;
  else if (type === "StripAccents") into.stripAccents = true;
  else if (type === "BertNormalizer") {
    if (typeof value["lowercase"] === "boolean") into.lowercase = value["lowercase"];
    if (typeof value["strip_accents"] === "boolean") into.stripAccents = value["strip_accents"];
  } else if (type === "Sequence" && Array.isArray(value["normalizers"])) {
    for (const child of value["normalizers"] as unknown[]) parseNormalizer(child, into);
  }
}

function specialTokenIdOf(piece: unknown): string | undefined {
  if (!isObject(piece)) return undefined;
  const special = piece["SpecialToken"];
  return isObject(special) && typeof special["id"] === "string" && special["id"] !== "" ? special["id"] : undefined;
}

function firstString(value: unknown): string | undefined {
  return Array.isArray(value) && typeof value[0] === "string" ? value[0] : undefined;
}
