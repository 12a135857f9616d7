/**
 * Searching the Hub's models (`GET /api/models`) through `@huggingface/hub` `listModels`, with the filters the
 * Catalog's search offers. The Hub filters by tag (`filter=license:mit`, `filter=gguf`, `filter=transformers`), by
 * task (`pipeline_tag`) and sorts (`sort=downloads|likes|lastModified`, descending); the size class has no server
 * filter, so it is applied here to the parameter count the Hub reports (`safetensors.total`, `gguf.total`).
 *
 * Paging: the Hub answers `limit` models and a `Link: <…&cursor=…>; rel="next"` header. `listModels` follows that
 * link by itself but does not expose it, so each page is one `listModels` call with `limit = pageSize` whose fetch
 * records the `Link` header; the next page's call asks the recorded URL instead of the first one (same query, next
 * cursor). The cursor we hand out is that URL, checked to stay on the configured endpoint.
 */
import { listModels, type PipelineType } from "@huggingface/hub";
import { sizeClassOf, type SizeClass } from "../catalog/sizeClasses";
import { UserError, throwIfAborted } from "../errors";
import { checkedFetch } from "./hubRepoFiles";

export const HUB_SEARCH_SORTS = ["downloads", "likes", "lastModified"] as const;
export type HubSearchSort = (typeof HUB_SEARCH_SORTS)[number];

export const HUB_MODEL_FORMATS = ["gguf", "safetensors"] as const;
export type HubModelFormat = (typeof HUB_MODEL_FORMATS)[number];

/** What a person can filter on; every field is optional. */
export interface HubSearchFilters {
  /** Words in the repo id. */
  readonly query?: string | undefined;
  readonly sizeClass?: SizeClass | undefined;
  /** A license id as the Hub tags it (`mit`, `apache-2.0`, `llama3.2`, …). */
  readonly license?: string | undefined;
  /** A pipeline tag (`text-generation`, …). */
  readonly task?: string | undefined;
  readonly format?: HubModelFormat | undefined;
  /** A library id (`transformers`, `gguf`, `mlx`, …). */
  readonly library?: string | undefined;
  /** Default: downloads. */
  readonly sort?: HubSearchSort | undefined;
}

export interface HubSearchRequest extends HubSearchFilters {
  readonly endpoint: string;
  readonly token?: string | undefined;
  /** Models per page (default 20, at most 100). */
  readonly pageSize?: number | undefined;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Where a parameter count came from: the Hub's safetensors or GGUF metadata, or a size in the repo name ("0.5B"). */
export type ParameterCountSource = "safetensors" | "gguf" | "name";

/** One model of a search page. */
export interface HubSearchResult {
  /** "org/name". */
  readonly id: string;
  readonly author: string;
  readonly downloads: number;
  readonly likes: number;
  /** ISO date. */
  readonly lastModified: string;
  readonly license: string | undefined;
  readonly task: string | undefined;
  readonly library: string | undefined;
  readonly tags: readonly string[];
  readonly gated: false | "auto" | "manual";
  readonly private: boolean;
  readonly parameterCount: number | undefined;
  readonly parameterSource: ParameterCountSource | undefined;
  readonly sizeClass: SizeClass | undefined;
  /** Weight formats the repo's tags announce. */
  readonly formats: readonly HubModelFormat[];
  /** The GGUF metadata's context length, when the Hub reports it. */
  readonly contextLength: number | undefined;
}

export interface HubSearchPage {
  readonly results: readonly HubSearchResult[];
  /** Pass as `cursor` for the next page; undefined on the last page. */
  readonly nextCursor: string | undefined;
  /** Models the Hub returned for this page before the size-class filter. */
  readonly scanned: number;
}

export const DEFAULT_SEARCH_PAGE_SIZE = 20;
/** With a size-class filter, look at most at this many Hub pages to fill one page of results. */
const MAX_HUB_PAGES_PER_PAGE = 5;

/** The cursor is not a next-page URL of this endpoint's model search. */
export class HubSearchCursorError extends UserError {}

/** The Hub's GGUF summary of a repo (`expand=gguf`): `total` parameters, architecture, context length. */
export interface HubGgufField {
  readonly total?: number;
  readonly architecture?: string;
  readonly context_length?: number;
}

/** One page of models matching the filters; with a size class, may read several Hub pages to fill it. */
export async function searchHub(request: HubSearchRequest): Promise<HubSearchPage> {
  const endpoint = request.endpoint.replace(/\/+$/, "");
  const pageSize = Math.max(1, Math.min(100, Math.floor(request.pageSize ?? DEFAULT_SEARCH_PAGE_SIZE)));
  let cursor = request.cursor === undefined ? undefined : checkCursor(endpoint, request.cursor);
  const results: HubSearchResult[] = [];
  let scanned = 0;
  for (let hubPage = 0; hubPage < MAX_HUB_PAGES_PER_PAGE; hubPage++) {
    throwIfAborted(request.signal);
    const page = await fetchHubPage(endpoint, request, pageSize, cursor);
    scanned += page.results.length;
    results.push(...page.results.filter((result) => request.sizeClass === undefined || result.sizeClass === request.sizeClass));
    cursor = page.next;
    if (request.sizeClass === undefined || results.length >= pageSize || cursor === undefined) break;
  }
  return { results, nextCursor: cursor, scanned };
}

/** The `filter` tags the Hub is asked for. */
export function hubSearchTags(filters: HubSearchFilters): string[] {
  const tags: string[] = [];
  if (filters.format !== undefined) tags.push(filters.format);
  if (filters.library !== undefined && filters.library !== "") tags.push(filters.library);
  if (filters.license !== undefined && filters.license !== "") tags.push(`license:${filters.license.toLowerCase()}`);
  return tags;
}

/** A parameter count named in a repo id: "Qwen2.5-0.5B-Instruct" → 0.5e9, "SmolLM2-135M" → 135e6 (first match). */
export function parameterCountFromName(repoId: string): number | undefined {
  const name = repoId.split("/").pop() ?? repoId;
  const match = /(?:^|[-_.])(\d+(?:\.\d+)?)([BM])(?=$|[-_.])/i.exec(name);
  if (match === null) return undefined;
  const value = Number(match[1]);
  return match[2]?.toUpperCase() === "B" ? value * 1e9 : value * 1e6;
}

/** The parameter count and its source, preferring the Hub's metadata over the name. */
export function parameterCountOf(
  repoId: string,
  safetensors: { readonly total?: number } | undefined,
  gguf: HubGgufField | undefined,
): { count: number | undefined; source: ParameterCountSource | undefined } {
  if (typeof safetensors?.total === "number" && safetensors.total > 0) return { count: safetensors.total, source: "safetensors" };
  if (typeof gguf?.total === "number" && gguf.total > 0) return { count: gguf.total, source: "gguf" };
  const fromName = parameterCountFromName(repoId);
  return fromName === undefined ? { count: undefined, source: undefined } : { count: fromName, source: "name" };
}

/** The license a repo's tags carry (`license:apache-2.0` → `apache-2.0`). */
export function licenseFromTags(tags: readonly string[]): string | undefined {
  return tags.find((tag) => tag.startsWith("license:"))?.slice("license:".length);
}

async function fetchHubPage(
  endpoint: string,
  request: HubSearchRequest,
  pageSize: number,
  cursor: string | undefined,
): Promise<{ results: HubSearchResult[]; next: string | undefined }> {
  const checked = checkedFetch({ endpoint, repo: "", token: request.token, signal: request.signal });
  let next: string | undefined;
  let first = true;
  const ggufById = new Map<string, HubGgufField>();
  const recordingFetch: typeof fetch = async (input, init) => {
    let url = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
    if (first && cursor !== undefined) url = cursor;
    first = false;
    // `gguf` is an expandable field of the Hub's model API (huggingface_hub `ExpandModelProperty_T`) that
    // listModels' types do not list yet.
    const withGguf = new URL(url);
    if (!withGguf.searchParams.getAll("expand").includes("gguf")) withGguf.searchParams.append("expand", "gguf");
    const response = await checked(withGguf.toString(), init);
    const link = response.headers.get("link");
    next = link === null ? undefined : nextLink(link);
    // listModels copies only the fields its types know, so the `gguf` field is read from the page here.
    const items: unknown = await response.clone().json();
    if (Array.isArray(items)) for (const item of items) if (isRecord(item) && typeof item["id"] === "string" && isRecord(item["gguf"])) ggufById.set(item["id"], item["gguf"]);
    return response;
  };
  const query = request.query?.trim();
  const tags = hubSearchTags(request);
  const results: HubSearchResult[] = [];
  for await (const model of listModels({
    search: {
      ...(query === undefined || query === "" ? {} : { query }),
      ...(request.task === undefined || request.task === "" ? {} : { task: request.task as PipelineType }),
      ...(tags.length === 0 ? {} : { tags }),
    },
    hubUrl: endpoint,
    limit: pageSize,
    sort: request.sort ?? "downloads",
    additionalFields: ["safetensors", "tags", "library_name"],
    fetch: recordingFetch,
    ...(request.token === undefined || request.token === "" ? {} : { accessToken: request.token }),
  })) {
    const gguf = ggufById.get(model.name);
    // The Hub leaves out fields it has no value for, whatever the types say.
    const tagList = stringArray(model.tags);
    // The Hub's library ids go beyond the ModelLibraryKey union of the types (e.g. "gguf").
    const library: string | undefined = model.library_name;
    const { count, source } = parameterCountOf(model.name, model.safetensors, gguf);
    results.push({
      id: model.name,
      author: model.name.includes("/") ? (model.name.split("/")[0] ?? "") : "",
      downloads: model.downloads,
      likes: model.likes,
      lastModified: Number.isNaN(model.updatedAt.getTime()) ? "" : model.updatedAt.toISOString(),
      license: licenseFromTags(tagList),
      task: model.task,
      library,
      tags: tagList,
      gated: model.gated,
      private: model.private,
      parameterCount: count,
      parameterSource: source,
      sizeClass: count === undefined ? undefined : sizeClassOf(count),
      formats: HUB_MODEL_FORMATS.filter((format) => tagList.includes(format) || library === format),
      contextLength: typeof gguf?.context_length === "number" ? gguf.context_length : undefined,
    });
  }
  return { results, next: next === undefined ? undefined : checkCursor(endpoint, next) };
}

/** A JSON object (not an array). */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** The `rel="next"` URL of a Link header (RFC 8288), as huggingface.js `parseLinkHeader` reads it. */
function nextLink(header: string): string | undefined {
  for (const match of header.matchAll(/<([^>]+)>\s*;\s*rel="?([^";]+)"?/g)) if (match[2] === "next") return match[1];
  return undefined;
}

/** A cursor must be this endpoint's `/api/models` URL: a cursor is never a way to send the token elsewhere. */
function checkCursor(endpoint: string, cursor: string): string {
  let url: URL;
  try {
    url = new URL(cursor, `${endpoint}/`);
  } catch {
    throw new HubSearchCursorError(`Not a Hub search cursor: ${cursor.slice(0, 80)}`);
  }
  const base = new URL(`${endpoint}/`);
  if (url.origin !== base.origin || !url.pathname.endsWith("/api/models")) {
    throw new HubSearchCursorError(`The next-page link ${url.origin}${url.pathname} is not ${endpoint}/api/models.`, {
      action: "Run the search again.",
    });
  }
  return url.toString();
}
