/**
 * The Compare Quantizations page. Sends `ready`, then draws whatever the host sends (a comparison, progress, notices);
 * buttons post typed requests back. The view state (sort, chart metric, last data) survives reloads through
 * vscode.setState; the host's panel serializer reopens the same family from it.
 */
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-progress-bar/index.js";
import "@vscode-elements/elements/dist/vscode-radio-group/index.js";
import "@vscode-elements/elements/dist/vscode-radio/index.js";
import "./styles/compare.css";
import type { QuantizationComparison } from "../src/core/bench/quantizationComparison";
import { formatBytes } from "../src/core/format/humanUnits";
import { renderSizeQualityChart } from "./components/sizeQualityChart";
import { renderSpeedChart } from "./components/speedChart";
import { renderVariantTable, type TableSort } from "./components/variantTable";
import { parseHostMessage, parseWebviewState, PROTOCOL_VERSION, type CompareWebviewState, type QualityMetric, type TaskProgress, type WebviewToHostMessage } from "./protocol";

interface VsCodeApi {
  postMessage(message: WebviewToHostMessage): void;
  getState(): unknown;
  setState(state: CompareWebviewState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const saved = parseWebviewState(vscode.getState());

let comparison: QuantizationComparison | undefined = saved?.comparison;
let problems: readonly string[] = [];
let sort: TableSort = saved?.sort ?? { column: "bpw", direction: "descending" };
let metric: QualityMetric = saved?.qualityMetric ?? "kld";
let task: TaskProgress | null = null;
let notice: { level: "info" | "error"; message: string } | undefined;

// A strict CSP blocks quietly; count violations where the tests (and a curious person) can read them.
let cspViolations = 0;
document.body.dataset["cspViolations"] = "0";
document.addEventListener("securitypolicyviolation", (event) => {
  cspViolations++;
  document.body.dataset["cspViolations"] = String(cspViolations);
  console.warn(`SLM Lab compare view: CSP blocked ${event.blockedURI || "inline content"} (${event.violatedDirective})`);
});

const root = element("main", "compare");
document.body.appendChild(root);

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className = "", text?: string): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  if (className !== "") created.className = className;
  if (text !== undefined) created.textContent = text;
  return created;
}

function button(label: string, onClick: () => void, options: { secondary?: boolean; disabled?: boolean; id?: string; title?: string } = {}): HTMLElement {
  const created = document.createElement("vscode-button");
  created.textContent = label;
  if (options.secondary === true) created.setAttribute("secondary", "");
  if (options.disabled === true) created.setAttribute("disabled", "");
  if (options.id !== undefined) created.id = options.id;
  if (options.title !== undefined) created.title = options.title;
  created.addEventListener("click", () => { if (!created.hasAttribute("disabled")) onClick(); });
  return created;
}

function post(message: WebviewToHostMessage): void {
  vscode.postMessage(message);
}

function saveState(): void {
  const modelPath = comparison?.parentPath ?? comparison?.variants[0]?.modelPath;
  if (modelPath === undefined) return;
  vscode.setState({ version: PROTOCOL_VERSION, modelPath, sort, qualityMetric: metric, ...(comparison === undefined ? {} : { comparison }) });
}

function render(): void {
  root.replaceChildren();
  if (comparison === undefined) {
    root.appendChild(element("p", "loading muted", "Reading the models and the bench history…"));
    return;
  }
  const data = comparison;
  const busy = task !== null;
  const benched = data.variants.filter((variant) => variant.bench !== undefined).length;

  const header = element("header");
  header.appendChild(element("h1", "", `Quantizations of ${data.familyName}`));
  const parent = data.variants.find((variant) => variant.isParent);
  header.appendChild(
    element(
      "p",
      "muted",
      `${data.variants.length} variant${data.variants.length === 1 ? "" : "s"}${parent === undefined ? " (no F16/BF16 parent found: ΔPPL and KLD need one)" : ` of ${parent.fileName}`} · ${benched} benchmarked · this machine: ${data.machine.cpuCount} CPUs, ${formatBytes(data.machine.totalMemoryBytes)} RAM`,
    ),
  );
  const toolbar = element("div", "toolbar");
  toolbar.setAttribute("role", "toolbar");
  toolbar.appendChild(button("Quantize more variants…", () => { post({ type: "quantizeMore" }); }, { disabled: busy, id: "quantize-more", title: "Quantize the parent to more types" }));
  toolbar.appendChild(
    button(benched === 0 ? "Run bench" : benched < data.variants.length ? "Bench the rest" : "Rerun bench", () => { post({ type: "runBench", modelPaths: [] }); }, {
      disabled: busy,
      id: "run-bench",
      title: benched === 0 || benched === data.variants.length ? "Benchmark every variant (speed, perplexity, KLD vs the parent)" : "Benchmark the variants without a bench yet",
    }),
  );
  toolbar.appendChild(button("Export CSV", () => { post({ type: "export", format: "csv" }); }, { secondary: true, id: "export-csv" }));
  toolbar.appendChild(button("Export Markdown", () => { post({ type: "export", format: "markdown" }); }, { secondary: true, id: "export-markdown" }));
  toolbar.appendChild(button("Refresh", () => { post({ type: "refresh" }); }, { secondary: true, id: "refresh", disabled: busy }));
  header.appendChild(toolbar);
  root.appendChild(header);

  if (task !== null) {
    const progress = element("section", "progress");
    progress.setAttribute("aria-live", "polite");
    const bar = document.createElement("vscode-progress-bar");
    if (task.fraction !== undefined) {
      bar.setAttribute("value", String(Math.round(task.fraction * 100)));
      bar.setAttribute("max", "100");
    } else {
      bar.setAttribute("indeterminate", "");
    }
    progress.appendChild(bar);
    const line = element("div", "progress-line");
    line.appendChild(element("span", "", task.message));
    line.appendChild(button("Cancel", () => { post({ type: "cancel" }); }, { secondary: true, id: "cancel" }));
    progress.appendChild(line);
    root.appendChild(progress);
  }
  if (notice !== undefined) {
    const box = element("p", `notice ${notice.level}`, notice.message);
    box.setAttribute("role", notice.level === "error" ? "alert" : "status");
    root.appendChild(box);
  }
  for (const problem of problems) root.appendChild(element("p", "notice error", problem));

  if (data.variants.length === 1 && parent !== undefined) {
    const empty = element("section", "empty");
    empty.appendChild(element("p", "", "No quantized variants yet: quantize the parent to compare what each type costs and loses."));
    empty.appendChild(button("Quantize…", () => { post({ type: "quantizeMore" }); }, { disabled: busy }));
    root.appendChild(empty);
  }
  if (benched === 0) {
    const empty = element("section", "empty", );
    empty.id = "no-bench";
    empty.appendChild(element("p", "", "No benchmark yet: Run bench to measure load time, speed, perplexity and KL divergence of each variant on this machine."));
    empty.appendChild(button("Run bench", () => { post({ type: "runBench", modelPaths: [] }); }, { disabled: busy }));
    root.appendChild(empty);
  }

  const tableSection = element("section", "table-section");
  tableSection.appendChild(element("h2", "", "Variants"));
  const scroller = element("div", "table-scroll");
  scroller.appendChild(
    renderVariantTable(data.variants, sort, (next) => {
      sort = next;
      saveState();
      render();
    }),
  );
  tableSection.appendChild(scroller);
  tableSection.appendChild(
    element("p", "muted small", "Typical: llama.cpp's published ΔPPL/KLD for the type (Llama-3-8B, wikitext-2); small models usually lose more. Click a header to sort."),
  );
  root.appendChild(tableSection);

  const charts = element("section", "charts");
  const quality = element("div", "chart-block");
  const qualityHead = element("div", "chart-head");
  qualityHead.appendChild(element("h2", "", "Size vs quality"));
  const group = document.createElement("vscode-radio-group");
  group.setAttribute("aria-label", "Quality measure");
  for (const [value, label] of [["kld", "KL divergence"], ["dppl", "ΔPPL"]] as const) {
    const radio = document.createElement("vscode-radio");
    radio.setAttribute("name", "metric");
    radio.setAttribute("value", value);
    radio.setAttribute("label", label);
    radio.textContent = label;
    if (metric === value) radio.setAttribute("checked", "");
    radio.addEventListener("change", () => {
      if (metric === value) return;
      metric = value;
      saveState();
      render();
    });
    group.appendChild(radio);
  }
  qualityHead.appendChild(group);
  quality.appendChild(qualityHead);
  quality.appendChild(renderSizeQualityChart(data.variants, metric));
  charts.appendChild(quality);
  const speed = element("div", "chart-block");
  speed.appendChild(element("h2", "", "Speed"));
  speed.appendChild(renderSpeedChart(data.variants));
  charts.appendChild(speed);
  root.appendChild(charts);
}

window.addEventListener("message", (event: MessageEvent<unknown>) => {
  const message = parseHostMessage(event.data);
  if (message === undefined) {
    console.warn("SLM Lab compare view: ignored a message that does not fit the protocol");
    return;
  }
  switch (message.type) {
    case "comparison":
      comparison = message.comparison;
      problems = message.problems;
      saveState();
      break;
    case "progress":
      task = message.task;
      break;
    case "notice":
      notice = { level: message.level, message: message.message };
      break;
  }
  render();
});

render();
post({ type: "ready" });
