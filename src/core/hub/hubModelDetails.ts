/**
 * Everything the model detail view shows about one Hub repo: the Hub's model info (`GET /api/models/{id}` with
 * `expand`), its card (README.md without the YAML front matter), its files with sizes (the tree API), the GGUF
 * quantizations its file names offer, and what each would need in memory on this machine (src/core/runtime/memoryFit).
 */
import { modelInfo } from "@huggingface/hub";
import { sizeClassOf, type SizeClass } from "../catalog/sizeClasses";
import { LlamaFileType } from "../gguf/llamaFileTypes";
import { describeError, throwIfAborted } from "../errors";
import {
  contextLengthFromHfConfig,
  estimateRunMemory,
  memoryFitLabel,
  runMemoryInputFromHfConfig,
  type MachineMemory,
  type MemoryFit,
  type RunMemoryEstimate,
} from "../runtime/memoryFit";
import { hubErrorForStatus } from "./hubHttp";
import { assertValidRepoId } from "./hubPaths";
import { checkedFetch, isGgufFileName, listHubRepoFiles, type HubRepoFile } from "./hubRepoFiles";
import { HUB_MODEL_FORMATS, isRecord, licenseFromTags, parameterCountOf, type HubGgufField, type HubModelFormat, type ParameterCountSource } from "./hubSearch";

export interface HubModelDetailsRequest {
  readonly endpoint: string;
  readonly repo: string;
  readonly token?: string | undefined;
  readonly revision?: string | undefined;
  /** The machine to judge the memory fit on (undefined: no fit label). */
  readonly machine?: MachineMemory | undefined;
  /** Context to estimate memory for (default 4096, or the model's own when smaller). */
  readonly contextSize?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What running a set of weights needs, and whether that fits. */
export interface HubMemoryNeed {
  readonly estimate: RunMemoryEstimate;
  readonly fit: MemoryFit | undefined;
}

/** One quantization the repo offers: its file(s) (several for a split GGUF) and their total size. */
export interface HubQuantization {
  /** llama.cpp file type name: "Q4_K_M", "Q8_0", "F16", … */
  readonly type: string;
  readonly files: readonly HubRepoFile[];
  readonly sizeBytes: number;
  readonly memory: HubMemoryNeed;
}

export interface HubModelDetails {
  readonly id: string;
  readonly author: string;
  readonly sha: string | undefined;
  readonly license: string | undefined;
  readonly task: string | undefined;
  readonly library: string | undefined;
  readonly tags: readonly string[];
  readonly downloads: number;
  readonly likes: number;
  readonly lastModified: string;
  readonly gated: false | "auto" | "manual";
  readonly private: boolean;
  readonly baseModel: string | undefined;
  readonly parameterCount: number | undefined;
  readonly parameterSource: ParameterCountSource | undefined;
  readonly sizeClass: SizeClass | undefined;
  readonly architecture: string | undefined;
  readonly contextLength: number | undefined;
  readonly contextSource: "config.json" | "gguf" | undefined;
  readonly formats: readonly HubModelFormat[];
  /** README.md without its front matter; undefined when the repo has none or it could not be read. */
  readonly card: string | undefined;
  /** Why the card could not be read (gated repo, …). */
  readonly cardProblem: string | undefined;
  readonly files: readonly HubRepoFile[];
  readonly totalBytes: number;
  readonly quantizations: readonly HubQuantization[];
  /** The safetensors weights' total size and what running them unquantized (16-bit) needs. */
  readonly safetensors: { readonly sizeBytes: number; readonly memory: HubMemoryNeed } | undefined;
  /** Context length the memory estimates are for. */
  readonly memoryContextSize: number;
}

/** The card is shown as text; a larger README is cut. */
const MAX_CARD_BYTES = 256 * 1024;
const DEFAULT_CONTEXT = 4096;

/** Longest names first, so "Q4_K_M" wins over "Q4_K" and "IQ2_XXS" over "IQ2_XS". */
const QUANT_NAMES = Object.keys(LlamaFileType).sort((a, b) => b.length - a.length);
const QUANT_PATTERN = new RegExp(`(?:^|[-_.])(${QUANT_NAMES.join("|")})(?=[-_.]|$)`, "i");

/** The quantization a GGUF file name announces ("model-Q4_K_M.gguf" → "Q4_K_M"), as the Hub's GGUF viewer reads it. */
export function quantizationOfFileName(filePath: string): string | undefined {
  const name = (filePath.split("/").pop() ?? filePath).replace(/\.gguf$/i, "").replace(/-\d{5}-of-\d{5}$/, "");
  const match = QUANT_PATTERN.exec(name);
  const found = match?.[1]?.toUpperCase();
  return found === undefined ? undefined : (QUANT_NAMES.find((known) => known === found) ?? found);
}

/** Fetches a repo's details: model info, files, card and config.json; estimates memory per quantization. */
export async function getHubModelDetails(request: HubModelDetailsRequest): Promise<HubModelDetails> {
  assertValidRepoId(request.repo);
  const endpoint = request.endpoint.replace(/\/+$/, "");
  const query = { endpoint, repo: request.repo, token: request.token, signal: request.signal, revision: request.revision ?? "main" };
  let gguf: HubGgufField | undefined;
  // The model info and the file list at once (one round trip instead of two); when both fail, the model info's error
  // is the one reported, as when they were asked one after the other.
  const [infoResult, filesResult] = await Promise.allSettled([
    modelInfo({
      name: request.repo,
      hubUrl: endpoint,
      revision: request.revision ?? "main",
      additionalFields: ["safetensors", "tags", "library_name", "cardData", "sha", "author"],
      fetch: withGgufExpand(checkedFetch(query), (field) => { gguf = field; }),
      ...(request.token === undefined || request.token === "" ? {} : { accessToken: request.token }),
    }),
    listHubRepoFiles(query),
  ]);
  if (infoResult.status === "rejected") throw infoResult.reason;
  if (filesResult.status === "rejected") throw filesResult.reason;
  throwIfAborted(request.signal);
  const info = infoResult.value;
  const files = filesResult.value;
  const [card, config] = await Promise.all([
    fetchRepoText(query, "README.md", files),
    fetchRepoText(query, "config.json", files),
  ]);
  const configJson = parseConfig(config.text);
  const tags = stringArray(info.tags);
  const library: string | undefined = info.library_name;
  const cardData = isRecord(info.cardData) ? info.cardData : {};
  const { count, source } = parameterCountOf(info.name, info.safetensors, gguf);
  const configContext = configJson === undefined ? undefined : contextLengthFromHfConfig(configJson);
  const ggufContext = typeof gguf?.context_length === "number" ? gguf.context_length : undefined;
  const contextLength = configContext ?? ggufContext;
  const memoryContextSize = Math.min(request.contextSize ?? DEFAULT_CONTEXT, contextLength ?? Number.POSITIVE_INFINITY);

  const need = (weightsBytes: number, bitsPerWeight: number | undefined): HubMemoryNeed => {
    const input = runMemoryInputFromHfConfig(configJson ?? {}, weightsBytes, memoryContextSize, bitsPerWeight);
    const estimate = estimateRunMemory(input);
    return { estimate, fit: request.machine === undefined ? undefined : memoryFitLabel(estimate, request.machine) };
  };
  const bitsFor = (bytes: number): number | undefined => (count === undefined || count === 0 ? undefined : (bytes * 8) / count);

  const byType = new Map<string, HubRepoFile[]>();
  for (const file of files) {
    if (!isGgufFileName(file.path)) continue;
    const type = quantizationOfFileName(file.path) ?? "unknown";
    byType.set(type, [...(byType.get(type) ?? []), file]);
  }
  const quantizations: HubQuantization[] = [...byType]
    .map(([type, group]) => {
      const sizeBytes = group.reduce((sum, file) => sum + file.size, 0);
      return { type, files: group, sizeBytes, memory: need(sizeBytes, bitsFor(sizeBytes)) };
    })
    .sort((a, b) => a.sizeBytes - b.sizeBytes);
  const safetensorsFiles = files.filter((file) => file.path.endsWith(".safetensors"));
  const safetensorsBytes = safetensorsFiles.reduce((sum, file) => sum + file.size, 0);

  return {
    id: info.name,
    author: typeof info.author === "string" ? info.author : (info.name.split("/")[0] ?? ""),
    sha: typeof info.sha === "string" ? info.sha : undefined,
    license: stringOf(cardData["license"]) ?? licenseFromTags(tags),
    task: info.task,
    library: library ?? stringOf(cardData["library_name"]),
    tags,
    downloads: info.downloads,
    likes: info.likes,
    lastModified: Number.isNaN(info.updatedAt.getTime()) ? "" : info.updatedAt.toISOString(),
    gated: info.gated,
    private: info.private,
    baseModel: stringOf(cardData["base_model"]),
    parameterCount: count,
    parameterSource: source,
    sizeClass: count === undefined ? undefined : sizeClassOf(count),
    architecture: gguf?.architecture ?? architectureOf(configJson),
    contextLength,
    contextSource: configContext !== undefined ? "config.json" : ggufContext !== undefined ? "gguf" : undefined,
    formats: HUB_MODEL_FORMATS.filter((format) => tags.includes(format) || library === format || (format === "gguf" ? quantizations.length > 0 : safetensorsFiles.length > 0)),
    card: card.text === undefined ? undefined : stripFrontMatter(card.text),
    cardProblem: card.problem,
    files,
    totalBytes: files.reduce((sum, file) => sum + file.size, 0),
    quantizations,
    safetensors: safetensorsFiles.length === 0 ? undefined : { sizeBytes: safetensorsBytes, memory: need(count === undefined ? safetensorsBytes : count * 2, 16) },
    memoryContextSize,
  };
}

/** README's text without the `---` YAML block the Hub parses into `cardData`. */
export function stripFrontMatter(markdown: string): string {
  const match = /^---\r?\n[\s\S]*?\r?\n---\r?\n?/.exec(markdown);
  return (match === null ? markdown : markdown.slice(match[0].length)).trimStart();
}

/**
 * Asks for `expand=gguf` too (an expandable model field that modelInfo's types do not list yet) and keeps it:
 * modelInfo copies only the fields its types know.
 */
function withGgufExpand(inner: typeof fetch, keep: (gguf: HubGgufField) => void): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url);
    url.searchParams.append("expand", "gguf");
    const response = await inner(url.toString(), init);
    const body: unknown = await response.clone().json();
    if (isRecord(body) && isRecord(body["gguf"])) keep(body["gguf"]);
    return response;
  };
}

/** A small text file of the repo through `resolve`; a missing file is no error, a refused one says why. */
async function fetchRepoText(
  query: { endpoint: string; repo: string; token: string | undefined; signal: AbortSignal | undefined; revision: string },
  file: string,
  files: readonly HubRepoFile[],
): Promise<{ text: string | undefined; problem: string | undefined }> {
  if (!files.some((entry) => entry.path === file)) return { text: undefined, problem: undefined };
  const url = `${query.endpoint}/${query.repo}/resolve/${encodeURIComponent(query.revision)}/${file}`;
  try {
    const response = await fetch(url, {
      headers: query.token === undefined || query.token === "" ? {} : { authorization: `Bearer ${query.token}` },
      ...(query.signal === undefined ? {} : { signal: query.signal }),
    });
    if (!response.ok) {
      const error = hubErrorForStatus(response.status, Object.fromEntries(response.headers.entries()), await response.text(), {
        endpoint: query.endpoint,
        repo: query.repo,
        revision: query.revision,
        file,
        hasToken: query.token !== undefined && query.token !== "",
      });
      return { text: undefined, problem: describeError(error) };
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { text: new TextDecoder().decode(bytes.subarray(0, MAX_CARD_BYTES)), problem: undefined };
  } catch (error) {
    if (query.signal?.aborted === true) throw error;
    return { text: undefined, problem: `Could not read ${file}: ${describeError(error)}` };
  }
}

function parseConfig(text: string | undefined): Readonly<Record<string, unknown>> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function architectureOf(config: Readonly<Record<string, unknown>> | undefined): string | undefined {
  return config === undefined ? undefined : stringOf(config["model_type"]);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : Array.isArray(value) && typeof value[0] === "string" ? value[0] : undefined;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}
