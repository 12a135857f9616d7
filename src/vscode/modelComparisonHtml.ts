/**
 * The side-by-side comparison page: one column per Hub model, one row per fact (parameters, license, context,
 * sizes, downloads, memory and fit on this machine). Pure, static HTML with the detail page's frame and CSP.
 */

import { SIZE_CLASS_SPECS } from "../core/catalog/sizeClasses";
import { formatBytes, formatParameterCount } from "../core/format/humanUnits";
import type { HubMemoryNeed, HubModelDetails } from "../core/hub/hubModelDetails";
import type { MachineMemory } from "../core/runtime/memoryFit";
import { FIT_WORDS, machineWords, pageHtml, type HubPageSecurity } from "./hubModelDetailHtml";
import { escapeHtml } from "./modelInfoHtml";

/** A model that could not be read: its column says why. */
export interface ComparisonFailure {
  readonly id: string;
  readonly error: string;
}

/** The smallest published GGUF (what a download would likely be), else the unquantized safetensors weights. */
export function smallestWeights(details: HubModelDetails): { label: string; sizeBytes: number; memory: HubMemoryNeed } | undefined {
  const [smallest] = details.quantizations;
  if (smallest !== undefined) return { label: `GGUF ${smallest.type}`, sizeBytes: smallest.sizeBytes, memory: smallest.memory };
  return details.safetensors === undefined ? undefined : { label: "safetensors (16-bit)", ...details.safetensors };
}

/** The whole page: models in the order given. */
export function renderModelComparisonHtml(models: readonly (HubModelDetails | ComparisonFailure)[], machine: MachineMemory, security: HubPageSecurity): string {
  const cell = (model: HubModelDetails | ComparisonFailure, value: (details: HubModelDetails) => string): string =>
    "error" in model ? `<td class="muted">—</td>` : `<td>${value(model)}</td>`;
  const rows: [string, (details: HubModelDetails) => string][] = [
    ["Parameters", (d) => (d.parameterCount === undefined ? "unknown" : `${formatParameterCount(d.parameterCount)}${d.parameterSource === "name" ? " (from the name)" : ""}`)],
    ["Size class", (d) => (d.sizeClass === undefined ? "—" : `${SIZE_CLASS_SPECS[d.sizeClass].label} (${SIZE_CLASS_SPECS[d.sizeClass].range})`)],
    ["License", (d) => escapeHtml(d.license ?? "not stated") + (d.gated === false ? "" : ` <span class="muted">(gated)</span>`)],
    ["Context length", (d) => (d.contextLength === undefined ? "unknown" : `${d.contextLength.toLocaleString("en-US")} tokens`)],
    ["Architecture", (d) => escapeHtml(d.architecture ?? "—")],
    ["Formats", (d) => escapeHtml(d.formats.join(", ") || "—")],
    ["Quantizations", (d) => (d.quantizations.length === 0 ? "none published" : d.quantizations.map((q) => `${escapeHtml(q.type)} <span class="muted">${formatBytes(q.sizeBytes)}</span>`).join("<br>"))],
    ["Smallest download", (d) => {
      const weights = smallestWeights(d);
      return weights === undefined ? "—" : `${escapeHtml(weights.label)}: ${formatBytes(weights.sizeBytes)}`;
    }],
    ["Memory to run it", (d) => {
      const weights = smallestWeights(d);
      if (weights === undefined) return "—";
      const fit = weights.memory.fit;
      const rule = weights.memory.estimate.method === "rule-of-thumb" ? ` <span class="muted">(rule of thumb: no config.json)</span>` : "";
      return `${formatBytes(weights.memory.estimate.totalBytes)}${rule}${fit === undefined ? "" : ` <span class="fit ${fit.label}">${escapeHtml(FIT_WORDS[fit.label])}</span>`}`;
    }],
    ["Repo size", (d) => formatBytes(d.totalBytes)],
    ["Downloads", (d) => d.downloads.toLocaleString("en-US")],
    ["Likes", (d) => d.likes.toLocaleString("en-US")],
    ["Updated", (d) => escapeHtml(d.lastModified.slice(0, 10))],
  ];
  const head = models.map((model) => `<th>${escapeHtml(model.id)}${"error" in model ? `<br><span class="fit too-big">${escapeHtml(model.error)}</span>` : ""}</th>`).join("");
  const body = rows.map(([label, value]) => `<tr><th>${escapeHtml(label)}</th>${models.map((model) => cell(model, value)).join("")}</tr>`).join("\n");
  const context = models.find((model): model is HubModelDetails => !("error" in model))?.memoryContextSize ?? 4096;
  return pageHtml("Model comparison", security, `
<h1>Model comparison</h1>
<p class="muted">${models.length} models. Memory is for the smallest published weights at ${context.toLocaleString("en-US")} tokens of context, on this machine: ${escapeHtml(machineWords(machine))}.</p>
<table class="compare"><thead><tr><th></th>${head}</tr></thead><tbody>
${body}
</tbody></table>`);
}
