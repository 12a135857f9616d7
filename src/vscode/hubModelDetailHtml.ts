/**
 * The Hub model detail page: facts, memory needed per quantization with the fit label for this machine, files with
 * sizes, and the model card. Pure (no `vscode` import): static HTML, everything from the Hub escaped, styles by
 * nonce, no script (the CSP allows none). The card's Markdown is rendered by a small subset renderer (headings,
 * paragraphs, lists, code, emphasis) on escaped text: raw HTML in a card shows as text.
 */

import { SIZE_CLASS_SPECS } from "../core/catalog/sizeClasses";
import { formatBytes, formatParameterCount } from "../core/format/humanUnits";
import type { HubMemoryNeed, HubModelDetails } from "../core/hub/hubModelDetails";
import type { MachineMemory, MemoryFitLabel } from "../core/runtime/memoryFit";
import { escapeHtml, staticPageHtml, type ModelInfoPageSecurity } from "./modelInfoHtml";

/** The same as the model-info page's: the webview's CSP source and a fresh nonce. */
export type HubPageSecurity = ModelInfoPageSecurity;

/** The card is cut here: a long README would make the page slow and the facts hard to find. */
const MAX_CARD_CHARACTERS = 60_000;
const MAX_FILE_ROWS = 500;

export const FIT_WORDS: Readonly<Record<MemoryFitLabel, string>> = {
  fits: "fits",
  "fits-partly-on-gpu": "fits partly on GPU",
  "too-big": "too big",
};

/** The whole detail page. */
export function renderHubModelDetailHtml(details: HubModelDetails, machine: MachineMemory, endpoint: string, security: HubPageSecurity): string {
  const modelPage = `${endpoint.replace(/\/+$/, "")}/${details.id}`;
  return pageHtml(details.id, security, `
<h1>${escapeHtml(details.id)}</h1>
<p class="muted">${escapeHtml(modelPage)} · ${details.downloads.toLocaleString("en-US")} downloads · ${details.likes.toLocaleString("en-US")} likes · updated ${escapeHtml(details.lastModified.slice(0, 10))}</p>
${details.gated === false ? "" : `<p class="warn">Gated model: accept its license conditions on ${escapeHtml(modelPage)} with your Hugging Face account, then run “SLM Lab: Sign in to Hugging Face” before downloading.</p>`}
<nav><a href="#facts">Facts</a> · <a href="#memory">Memory on this machine</a> · <a href="#files">Files (${details.files.length})</a> · <a href="#card">Model card</a></nav>
<h2 id="facts">Facts</h2>
${keyValueTable(factRows(details))}
<h2 id="memory">Memory on this machine</h2>
<p class="muted">Estimated for ${details.memoryContextSize.toLocaleString("en-US")} tokens of context: weights + KV cache (F16) + compute buffers, as llama.cpp allocates them. This machine: ${escapeHtml(machineWords(machine))}.</p>
${memoryTable(details)}
<h2 id="files">Files</h2>
${filesTable(details)}
<h2 id="card">Model card</h2>
${details.card === undefined ? `<p class="muted">${escapeHtml(details.cardProblem ?? "This repo has no README.md.")}</p>` : `<div class="card">${renderCardMarkdown(details.card.slice(0, MAX_CARD_CHARACTERS))}${details.card.length > MAX_CARD_CHARACTERS ? `<p class="muted">… the card continues on ${escapeHtml(modelPage)}.</p>` : ""}</div>`}
`);
}

/** The page frame shared by the detail and comparison pages. */
export function pageHtml(title: string, security: HubPageSecurity, body: string): string {
  return staticPageHtml(title, security, STYLE, body);
}

/** "Parameters: 494M (494,032,768, from the Hub's GGUF metadata)" and the other facts. */
function factRows(details: HubModelDetails): [string, string][] {
  const params =
    details.parameterCount === undefined
      ? "unknown"
      : `${formatParameterCount(details.parameterCount)} (${Math.round(details.parameterCount).toLocaleString("en-US")}, from ${details.parameterSource === "name" ? "the repo name" : `the Hub's ${details.parameterSource ?? ""} metadata`})`;
  const rows: [string, string | undefined][] = [
    ["Parameters", params],
    ["Size class", details.sizeClass === undefined ? "outside 0.1–30B" : `${SIZE_CLASS_SPECS[details.sizeClass].label} (${SIZE_CLASS_SPECS[details.sizeClass].range})`],
    ["License", details.license ?? "not stated"],
    ["Context length", details.contextLength === undefined ? "unknown" : `${details.contextLength.toLocaleString("en-US")} tokens (from ${details.contextSource ?? ""})`],
    ["Architecture", details.architecture],
    ["Task", details.task],
    ["Library", details.library],
    ["Formats", details.formats.join(", ") || undefined],
    ["Quantizations", details.quantizations.length === 0 ? "none published (quantize the safetensors weights yourself)" : details.quantizations.map((quant) => quant.type).join(", ")],
    ["Base model", details.baseModel],
    ["Total size", formatBytes(details.totalBytes)],
    ["Commit", details.sha?.slice(0, 12)],
    ["Tags", details.tags.filter((tag) => !tag.startsWith("license:")).join(", ") || undefined],
  ];
  return rows.filter((row): row is [string, string] => row[1] !== undefined && row[1] !== "");
}

function memoryTable(details: HubModelDetails): string {
  const rows = details.quantizations.map((quant) => memoryRow(`${quant.type}${quant.files.length > 1 ? ` (${quant.files.length} parts)` : ""}`, quant.sizeBytes, quant.memory));
  if (details.safetensors !== undefined) rows.push(memoryRow("safetensors, unquantized (16-bit)", details.safetensors.sizeBytes, details.safetensors.memory));
  if (rows.length === 0) return `<p class="muted">No GGUF or safetensors weights in this repo.</p>`;
  return `<table><thead><tr><th>Weights</th><th class="num">Download</th><th class="num">Weights</th><th class="num">KV cache</th><th class="num">Compute</th><th class="num">Total</th><th>Fit</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function memoryRow(label: string, downloadBytes: number, need: HubMemoryNeed): string {
  const { estimate, fit } = need;
  const rule = estimate.method === "rule-of-thumb" ? ` <span class="muted" title="model shape unknown: rule of thumb from the file size">(rule of thumb)</span>` : "";
  const fitCell = fit === undefined ? "" : `<span class="fit ${fit.label}">${escapeHtml(FIT_WORDS[fit.label])}</span> <span class="muted">${escapeHtml(fit.explanation)}</span>`;
  return `<tr><td>${escapeHtml(label)}</td><td class="num">${formatBytes(downloadBytes)}</td><td class="num">${formatBytes(estimate.weightsBytes)}</td><td class="num">${estimate.method === "rule-of-thumb" ? "—" : formatBytes(estimate.kvCacheBytes)}</td><td class="num">${formatBytes(estimate.computeBytes)}</td><td class="num"><b>${formatBytes(estimate.totalBytes)}</b>${rule}</td><td>${fitCell}</td></tr>`;
}

function filesTable(details: HubModelDetails): string {
  const files = [...details.files].sort((a, b) => a.path.localeCompare(b.path));
  const rows = files.slice(0, MAX_FILE_ROWS).map((file) => `<tr><td><code>${escapeHtml(file.path)}</code></td><td class="num">${formatBytes(file.size)}</td><td class="muted">${file.sha256 === undefined ? "" : `sha256 ${escapeHtml(file.sha256.slice(0, 12))}…`}</td></tr>`);
  const more = files.length > MAX_FILE_ROWS ? `<p class="muted">… and ${files.length - MAX_FILE_ROWS} more files.</p>` : "";
  return `<table><tbody>${rows.join("")}</tbody></table>${more}`;
}

function keyValueTable(rows: readonly (readonly [string, string])[]): string {
  return `<table class="kv"><tbody>${rows.map(([key, value]) => `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`).join("")}</tbody></table>`;
}

/** "16.0 GiB of RAM (5.2 GiB free), no GPU known". */
export function machineWords(machine: MachineMemory): string {
  const free = machine.freeMemoryBytes === undefined ? "" : ` (${formatBytes(machine.freeMemoryBytes)} free)`;
  const gpu = machine.gpuMemoryBytes === undefined ? "no GPU counted" : `${formatBytes(machine.gpuMemoryBytes)} of GPU memory`;
  return `${formatBytes(machine.totalMemoryBytes)} of RAM${free}, ${gpu}`;
}

/**
 * A safe subset of Markdown: fenced code, ATX headings, bullet and numbered lists, paragraphs, inline code, bold,
 * italics, and links shown as text with their URL. Everything is escaped first; no HTML from the card survives.
 */
export function renderCardMarkdown(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  let paragraph: string[] = [];
  let list: { ordered: boolean; items: string[] } | undefined;
  const flushParagraph = (): void => {
    if (paragraph.length > 0) out.push(`<p>${inline(paragraph.join(" "))}</p>`);
    paragraph = [];
  };
  const flushList = (): void => {
    if (list !== undefined) out.push(`<${list.ordered ? "ol" : "ul"}>${list.items.map((item) => `<li>${inline(item)}</li>`).join("")}</${list.ordered ? "ol" : "ul"}>`);
    list = undefined;
  };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence !== null) {
      flushParagraph();
      flushList();
      const code: string[] = [];
      for (index++; index < lines.length && !(lines[index] ?? "").trimStart().startsWith(fence[1] ?? "```"); index++) code.push(lines[index] ?? "");
      out.push(`<pre><code>${escapeHtml(code.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (heading !== null) {
      flushParagraph();
      flushList();
      // The page has h1/h2 of its own: card headings start at h3.
      const level = Math.min(6, (heading[1]?.length ?? 1) + 2);
      out.push(`<h${level}>${inline(heading[2] ?? "")}</h${level}>`);
    } else if (bullet !== null || numbered !== null) {
      flushParagraph();
      const ordered = bullet === null;
      if (list !== undefined && list.ordered !== ordered) flushList();
      list ??= { ordered, items: [] };
      list.items.push((bullet ?? numbered)?.[1] ?? "");
    } else if (line.trim() === "") {
      flushParagraph();
      flushList();
    } else {
      flushList();
      paragraph.push(line.trim());
    }
  }
  flushParagraph();
  flushList();
  return out.join("\n");
}

function inline(text: string): string {
  // Split out code spans first so their content is never formatted.
  return text
    .split(/(`[^`]*`)/)
    .map((part) => {
      if (part.startsWith("`") && part.endsWith("`") && part.length >= 2) return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
      return escapeHtml(part)
        .replace(/!?\[([^\]]*)\]\(([^)\s]*)[^)]*\)/g, (_match, label: string, url: string) => (label === "" ? `<span class="muted">${url}</span>` : `${label} <span class="muted">(${url})</span>`))
        .replace(/\*\*([^*]+)\*\*/g, "<b>$1</b>")
        .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<i>$2</i>");
    })
    .join("");
}

/** Theme colours through VS Code's CSS variables, so the page follows light, dark and high-contrast themes. */
const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 0 20px 40px; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; word-break: break-all; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-widget-border, #8884)); padding-bottom: 4px; }
a { color: var(--vscode-textLink-foreground); }
code, pre { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
pre { white-space: pre-wrap; word-break: break-all; background: var(--vscode-textCodeBlock-background); padding: 6px 8px; max-height: 24em; overflow: auto; }
.muted { color: var(--vscode-descriptionForeground); }
.warn { border-left: 3px solid var(--vscode-editorWarning-foreground, #cca700); padding: 4px 10px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { text-align: left; vertical-align: top; padding: 3px 12px 3px 0; border-bottom: 1px solid var(--vscode-editorWidget-border, #8882); }
table.kv th, table.compare tbody th { font-weight: normal; color: var(--vscode-descriptionForeground); white-space: nowrap; }
td { word-break: break-word; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.fit { font-weight: 600; white-space: nowrap; padding: 0 6px; border-radius: 3px; }
.fit.fits { color: var(--vscode-testing-iconPassed, #73c991); }
.fit.fits-partly-on-gpu { color: var(--vscode-editorWarning-foreground, #cca700); }
.fit.too-big { color: var(--vscode-errorForeground, #f48771); }
.card { border-top: 1px solid var(--vscode-editorWidget-border, #8882); }
`;
