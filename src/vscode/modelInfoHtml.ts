/**
 * The Show Model Info page: summary, hyper-parameters, every metadata key and the tensor table, as static HTML.
 * Pure (no `vscode` import): everything from the file is escaped, styles come with a nonce, there is no script.
 */

import { formatBytes, formatParameterCount } from "../core/format/humanUnits";
import { ggmlTypeInfo } from "../core/gguf/ggmlTypes";
import type { GgufArray, GgufFile, GgufMetadataEntry, GgufModelSummary, GgufValue } from "../core/gguf/ggufTypes";
import { llamaFileTypeDescription } from "../core/gguf/llamaFileTypes";

export interface ModelInfoPageInput {
  /** The heading: `general.name` or the file name. */
  readonly title: string;
  /** Where the model lives, e.g. "Models folder" or "Hugging Face cache · Qwen/Qwen2.5-0.5B-GGUF @ 1a2b3c4". */
  readonly location: string;
  /** Summary over all parts. */
  readonly summary: GgufModelSummary;
  /** Every part as read (metadata from the first); the paths shown are `displayPaths`. */
  readonly parts: readonly GgufFile<GgufMetadataEntry>[];
  readonly displayPaths: readonly string[];
}

export interface ModelInfoPageSecurity {
  /** `webview.cspSource`. */
  readonly cspSource: string;
  /** A fresh random nonce for the inline style. */
  readonly nonce: string;
}

/** Long arrays show this many values before "…". */
const ARRAY_PREVIEW_ITEMS = 8;
/** Strings longer than this fold into a <details> element. */
const INLINE_STRING_LENGTH = 160;
/** The tensor table stops here (MoE models have thousands of tensors; the page must stay responsive). */
const MAX_TENSOR_ROWS = 5000;

/** The whole page. */
export function renderModelInfoHtml(input: ModelInfoPageInput, security: ModelInfoPageSecurity): string {
  const first = input.parts[0];
  const metadata = first?.metadata ?? new Map<string, GgufMetadataEntry>();
  const architecture = input.summary.architecture;
  const hyperParameters = architecture === undefined ? [] : [...metadata].filter(([key]) => key.startsWith(`${architecture}.`));
  return staticPageHtml(input.title, security, STYLE, `
<h1>${escapeHtml(input.title)}</h1>
<p class="location">${escapeHtml(input.location)}</p>
<ul class="paths">${input.displayPaths.map((file) => `<li><code>${escapeHtml(file)}</code></li>`).join("")}</ul>
<nav><a href="#summary">Summary</a> · <a href="#hyper-parameters">Hyper-parameters</a> · <a href="#metadata">Metadata (${metadata.size})</a> · <a href="#tensors">Tensors (${input.summary.tensorCount})</a></nav>
<h2 id="summary">Summary</h2>
${keyValueTable(summaryRows(input))}
<h2 id="hyper-parameters">Hyper-parameters</h2>
${hyperParameters.length === 0 ? `<p class="muted">No <code>${escapeHtml(architecture ?? "{architecture}")}.*</code> keys.</p>` : keyValueTable(hyperParameters.map(([key, value]) => [key.slice((architecture ?? "").length + 1), renderValue(value)]))}
<h2 id="metadata">Metadata</h2>
${metadataTable(metadata)}
<h2 id="tensors">Tensors</h2>
${tensorTable(input.parts)}
`);
}

/**
 * A page without scripts (model info, Hub details, model comparison): a strict CSP that allows only the nonce'd
 * inline style and images from the webview, the title, the style and the body.
 */
export function staticPageHtml(title: string, security: ModelInfoPageSecurity, style: string, body: string): string {
  const csp = [`default-src 'none'`, `style-src ${security.cspSource} 'nonce-${security.nonce}'`, `img-src ${security.cspSource} data:`].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<style nonce="${escapeHtml(security.nonce)}">${style}</style>
</head>
<body>${body}</body>
</html>`;
}

type Row = readonly [string, string];

function summaryRows({ summary, parts }: ModelInfoPageInput): Row[] {
  const count = (value: number | undefined): string | undefined => (value === undefined ? undefined : value.toLocaleString("en-US"));
  const fileTypeId = parts[0]?.metadata.get("general.file_type");
  const fileTypeDescription = fileTypeId !== undefined && fileTypeId.type !== "array" && fileTypeId.type !== "array-summary" && typeof fileTypeId.value === "number" ? llamaFileTypeDescription(fileTypeId.value) : undefined;
  const heads = summary.headCount === undefined ? undefined : summary.headCountKv === undefined || summary.headCountKv === summary.headCount ? count(summary.headCount) : `${count(summary.headCount)} (${count(summary.headCountKv)} key/value)`;
  const tokenizer = summary.tokenizerModel === undefined ? undefined : summary.tokenizerPre === undefined ? summary.tokenizerModel : `${summary.tokenizerModel} (pre-tokenizer ${summary.tokenizerPre})`;
  const rows: [string, string | undefined][] = [
    ["Architecture", summary.architecture],
    ["Name", summary.name],
    ["Parameters", `${formatParameterCount(summary.parameterCount)} (${count(summary.parameterCount) ?? ""})`],
    ["File type", fileTypeDescription === undefined || fileTypeDescription === summary.fileType ? summary.fileType : `${summary.fileType} (${fileTypeDescription})`],
    ["Bits per weight", summary.bitsPerWeight.toFixed(2)],
    ["Size on disk", `${formatBytes(summary.fileSize)} (${count(summary.fileSize) ?? ""} bytes)${parts.length > 1 ? ` in ${parts.length} parts` : ""}`],
    ["Context length", count(summary.contextLength)],
    ["Embedding length", count(summary.embeddingLength)],
    ["Layers", count(summary.blockCount)],
    ["Attention heads", heads],
    ["Feed-forward length", count(summary.feedForwardLength)],
    ["Vocabulary", count(summary.vocabularySize)],
    ["Tokenizer", tokenizer],
    ["GGUF version", String(summary.ggufVersion)],
    ["Tensors", count(summary.tensorCount)],
  ];
  return rows.filter((row): row is [string, string] => row[1] !== undefined).map(([key, value]) => [key, escapeHtml(value)]);
}

/** Rows of [label, value already escaped as HTML]. */
function keyValueTable(rows: readonly Row[]): string {
  return `<table class="kv"><tbody>${rows.map(([key, value]) => `<tr><th scope="row">${escapeHtml(key)}</th><td>${value}</td></tr>`).join("")}</tbody></table>`;
}

function metadataTable(metadata: ReadonlyMap<string, GgufMetadataEntry>): string {
  const rows = [...metadata].map(([key, value]) => `<tr><td><code>${escapeHtml(key)}</code></td><td class="type">${escapeHtml(typeName(value))}</td><td>${renderValue(value)}</td></tr>`);
  return `<table><thead><tr><th>Key</th><th>Type</th><th>Value</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function tensorTable(parts: readonly GgufFile<GgufMetadataEntry>[]): string {
  const showPart = parts.length > 1;
  const rows: string[] = [];
  let total = 0;
  for (const [index, part] of parts.entries()) {
    for (const tensor of part.tensors) {
      total++;
      if (rows.length >= MAX_TENSOR_ROWS) continue;
      const type = ggmlTypeInfo(tensor.ggmlType)?.name ?? `type ${tensor.ggmlType}`;
      const elements = tensor.dims.reduce((product, dim) => product * dim, 1);
      rows.push(
        `<tr>${showPart ? `<td class="num">${index + 1}</td>` : ""}<td><code>${escapeHtml(tensor.name)}</code></td><td class="num">${escapeHtml(tensor.dims.join(" × "))}</td>` +
          `<td>${escapeHtml(type)}</td><td class="num">${escapeHtml(elements.toLocaleString("en-US"))}</td><td class="num">${escapeHtml(formatBytes(tensor.byteLength))}</td></tr>`,
      );
    }
  }
  const more = total > rows.length ? `<p class="muted">Showing the first ${rows.length.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} tensors.</p>` : "";
  return `<table><thead><tr>${showPart ? "<th>Part</th>" : ""}<th>Name</th><th title="ggml order: ne0 (contiguous) first">Shape</th><th>Type</th><th>Elements</th><th>Size</th></tr></thead><tbody>${rows.join("")}</tbody></table>${more}`;
}

function typeName(value: GgufMetadataEntry): string {
  if (value.type === "array" || value.type === "array-summary") return `array of ${value.itemType}`;
  return value.type;
}

/** A value as HTML: strings quoted (long ones folded), long arrays as `[151,936 strings] "a", "b", …`. */
export function renderValue(value: GgufMetadataEntry | GgufValue): string {
  switch (value.type) {
    case "string":
      return renderString(value.value);
    case "array-summary":
      return `<span class="count">[${value.length.toLocaleString("en-US")} ${pluralItemType(value.itemType)}]</span>`;
    case "array":
      return renderArray(value);
    case "bool":
      return value.value ? "true" : "false";
    case "u64":
    case "i64":
      return escapeHtml(value.value.toString());
    default:
      return escapeHtml(String(value.value));
  }
}

function renderArray(array: GgufArray): string {
  const values = array.values as readonly (string | number | bigint | boolean | GgufArray)[];
  const head = values.slice(0, ARRAY_PREVIEW_ITEMS).map((item) => {
    if (typeof item === "string") return renderString(item, 40);
    if (typeof item === "object") return `<span class="count">[${item.values.length.toLocaleString("en-US")} ${pluralItemType(item.itemType)}]</span>`;
    return escapeHtml(String(item));
  });
  const count = `<span class="count">[${values.length.toLocaleString("en-US")} ${pluralItemType(array.itemType)}]</span>`;
  if (values.length === 0) return count;
  return `${count} ${values.length > ARRAY_PREVIEW_ITEMS ? "first: " : ""}${head.join(", ")}${values.length > ARRAY_PREVIEW_ITEMS ? ", …" : ""}`;
}

function renderString(text: string, inlineLength = INLINE_STRING_LENGTH): string {
  const quoted = JSON.stringify(text);
  if (quoted.length <= inlineLength && !text.includes("\n")) return `<span class="str">${escapeHtml(quoted)}</span>`;
  const preview = JSON.stringify(text.slice(0, Math.min(inlineLength, 80)));
  // Folded: the full text (up to 64 KiB) behind a <details>, which needs no script.
  const shown = text.length > 65_536 ? `${text.slice(0, 65_536)}\n… (${text.length.toLocaleString("en-US")} characters in all)` : text;
  return `<details><summary><span class="str">${escapeHtml(preview)}</span>… <span class="muted">(${text.length.toLocaleString("en-US")} characters)</span></summary><pre>${escapeHtml(shown)}</pre></details>`;
}

function pluralItemType(itemType: string): string {
  switch (itemType) {
    case "string":
      return "strings";
    case "bool":
      return "booleans";
    case "array":
      return "arrays";
    default:
      return itemType;
  }
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Theme colours through VS Code's CSS variables, so the page follows light, dark and high-contrast themes. */
const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 0 20px 40px; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-widget-border, #8884)); padding-bottom: 4px; }
a { color: var(--vscode-textLink-foreground); }
code, pre { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
pre { white-space: pre-wrap; word-break: break-all; background: var(--vscode-textCodeBlock-background); padding: 6px 8px; max-height: 24em; overflow: auto; }
.location, .muted, .type { color: var(--vscode-descriptionForeground); }
.paths { list-style: none; padding: 0; margin: 0 0 12px; word-break: break-all; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { text-align: left; vertical-align: top; padding: 3px 12px 3px 0; border-bottom: 1px solid var(--vscode-editorWidget-border, #8882); }
thead th { position: sticky; top: 0; background: var(--vscode-editor-background); }
table.kv th { font-weight: normal; color: var(--vscode-descriptionForeground); white-space: nowrap; }
td { word-break: break-word; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.count { color: var(--vscode-descriptionForeground); font-weight: 600; }
.str { color: var(--vscode-debugTokenExpression-string, inherit); }
summary { cursor: pointer; }
`;
