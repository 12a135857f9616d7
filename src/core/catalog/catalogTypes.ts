/**
 * The data model of the curated SLM catalog (`curatedModels.json`). Every fact carries a verification record: what
 * could not be confirmed from a real source is marked, never guessed. The size class is not stored: it is derived
 * from `parameters` (see sizeClasses.ts).
 */

/** What an entry is good at; `fim` marks fill-in-the-middle (inline completion) capable models. */
export const CATALOG_TAGS = [
  "chat",
  "code",
  "fim",
  "reasoning",
  "multilingual",
  "tool-use",
  "vision",
  "long-context",
  "ternary",
  "on-device",
] as const;

export type CatalogTag = (typeof CATALOG_TAGS)[number];

/**
 * How well a fact is established:
 * - `verified`: read in the model card, config.json, the license file or the vendor's own documentation (or a
 *   faithful mirror of them);
 * - `secondary`: only third-party pages or code that quote it agree on it;
 * - `unverified`: not confirmed; the record's note says what is unknown.
 */
export const VERIFICATION_STATUSES = ["verified", "secondary", "unverified"] as const;

export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/** The groups of facts that carry a verification record each. `fim` only for FIM-capable entries. */
export const FACT_GROUPS = ["parameters", "contextLength", "license", "repositories", "availability", "gated", "fim"] as const;

export type FactGroup = (typeof FACT_GROUPS)[number];

export interface FactCheck {
  readonly status: VerificationStatus;
  /** Where it was read: URLs (model cards, config files, docs) or `repo:path` of public code that uses it. */
  readonly sources: readonly string[];
  /** Required when not verified: what exactly is unknown or only inferred. */
  readonly note?: string;
}

export interface CatalogLicense {
  /** SPDX id where one exists ("Apache-2.0", "MIT"), else the model's own license id ("llama3.2", "gemma"). */
  readonly id: string;
  readonly name: string;
  readonly url: string;
}

/** Who publishes a GGUF repository. */
export const GGUF_PUBLISHERS = ["official", "ggml-org", "community"] as const;

export type GgufPublisher = (typeof GGUF_PUBLISHERS)[number];

/** Which weights a repository holds: the pre-trained base (best for FIM) or the instruction-tuned model. */
export const MODEL_VARIANTS = ["base", "instruct"] as const;

export type ModelVariant = (typeof MODEL_VARIANTS)[number];

export interface GgufSource {
  /** Hugging Face repo id, "owner/name". */
  readonly repo: string;
  readonly publisher: GgufPublisher;
  readonly variant: ModelVariant;
  /** File names seen in public use (confirmed to exist); may be empty. */
  readonly files: readonly string[];
  /** Quantization tags confirmed through `llama-server -hf repo:TAG` use, when file names were not seen. */
  readonly quantTags: readonly string[];
  /** Naming pattern of the files, `{QUANT}` standing for the quantization; absent when unknown. */
  readonly filePattern?: string;
  readonly note?: string;
}

export interface CatalogRepositories {
  /** The safetensors (transformers) repo id. */
  readonly safetensors: string;
  readonly variant: ModelVariant;
  readonly gguf: readonly GgufSource[];
}

/** Presence in a Microsoft catalog: listed, checked and not listed in the snapshot read, or not known. */
export const AVAILABILITY_STATES = ["listed", "not-listed", "unknown"] as const;

export type AvailabilityState = (typeof AVAILABILITY_STATES)[number];

export interface CatalogAvailability {
  /** The Azure AI Foundry (cloud) model catalog. */
  readonly azureAiFoundry: AvailabilityState;
  /** Foundry Local (on-device); `foundryLocalAlias` is what `foundry model run <alias>` takes. */
  readonly foundryLocal: AvailabilityState;
  readonly foundryLocalAlias?: string;
}

/** The FIM prompt families whose special tokens differ (llama.cpp src/llama-vocab.cpp recognises all of them). */
export const FIM_TEMPLATES = ["qwen", "starcoder", "deepseek", "codegemma"] as const;

export type FimTemplate = (typeof FIM_TEMPLATES)[number];

export interface FimTokens {
  readonly template: FimTemplate;
  readonly prefix: string;
  readonly suffix: string;
  readonly middle: string;
  /** Repository-level context tokens, where the model has them (`<|file_sep|>`, `<file_sep>`…). */
  readonly fileSeparator?: string;
  readonly repoName?: string;
}

export interface CatalogEntry {
  /** Stable id, lower-case: "qwen3-0.6b". */
  readonly id: string;
  readonly displayName: string;
  readonly family: string;
  /** Parameter count as the model card gives it (0.6e9 for "0.6B"). */
  readonly parameters: number;
  /** Context length in tokens that the card states as supported. */
  readonly contextLength: number;
  /** How the card qualifies it (native vs. YaRN, config value), when it does. */
  readonly contextNote?: string;
  readonly license: CatalogLicense;
  /** Short: what to use it for. */
  readonly goodFor: string;
  readonly tags: readonly CatalogTag[];
  readonly repositories: CatalogRepositories;
  readonly availability: CatalogAvailability;
  /** The license must be accepted on the Hugging Face model page before download (Llama, Gemma). */
  readonly gated: boolean;
  /** Present exactly when `tags` has "fim". */
  readonly fim?: FimTokens;
  /** Free-form caveats worth showing next to the entry. */
  readonly notes?: readonly string[];
  readonly verification: Readonly<Partial<Record<FactGroup, FactCheck>>>;
  /** Model cards and documents used for this entry. */
  readonly sources: readonly string[];
}

export interface CuratedCatalog {
  readonly schemaVersion: 1;
  /** When the facts were looked up (ISO date). */
  readonly reviewed: string;
  /** Sources used for several entries (catalog snapshots), by key. */
  readonly sharedSources: Readonly<Record<string, string>>;
  readonly entries: readonly CatalogEntry[];
}
