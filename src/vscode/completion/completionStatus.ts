/**
 * The inline-completion state the status bar shows, and its text and tooltip for each state. Pure (no `vscode`
 * import): the words a person reads are unit-tested.
 */

export type CompletionStatus =
  /** slmLab.completion.enabled is false. */
  | { readonly state: "off" }
  /** On, local engine, no model chosen. */
  | { readonly state: "no-model" }
  /** On, remote engine, no endpoint URL. */
  | { readonly state: "no-endpoint"; readonly engine: string }
  /** First request to a fresh engine (model loading, connection). */
  | { readonly state: "loading"; readonly engine: string; readonly model: string }
  | {
      readonly state: "ready";
      readonly engine: string;
      readonly model: string;
      /** Of the last completed request. */
      readonly lastLatencyMs?: number;
      readonly tokensPerSecond?: number;
      readonly fromCache?: boolean;
    }
  /** The engine failed; `summary` is a few words for the bar, `message` and `action` go in the tooltip. */
  | { readonly state: "error"; readonly engine: string; readonly model: string; readonly summary: string; readonly message: string; readonly action?: string };

export type CompletionStatusSeverity = "normal" | "warning" | "error";

export interface CompletionStatusView {
  /** Status bar text, with codicons (`$(name)`). */
  readonly text: string;
  /** Plain-text tooltip: what is going on, then what a click does. */
  readonly tooltip: string;
  readonly severity: CompletionStatusSeverity;
}

const CLICK = "Click for options: turn completions on or off, switch model.";

/** Text, tooltip and severity for a state. */
export function completionStatusView(status: CompletionStatus): CompletionStatusView {
  switch (status.state) {
    case "off":
      return { text: "$(circle-slash) SLM", tooltip: `SLM Lab inline completions are off.\n${CLICK}`, severity: "normal" };
    case "no-model":
      return {
        text: "$(warning) SLM: no model",
        tooltip: "SLM Lab inline completions are on, but no completion model is selected.\nClick to pick one from My Models (a coder model, e.g. Qwen2.5-Coder 0.5B Q4).",
        severity: "warning",
      };
    case "no-endpoint":
      return {
        text: "$(warning) SLM: no endpoint",
        tooltip: `The ${status.engine} engine needs an endpoint URL: set slmLab.completion.endpoint in your user settings.\n${CLICK}`,
        severity: "warning",
      };
    case "loading":
      return { text: `$(loading~spin) SLM ${status.model}`, tooltip: `Loading ${status.model} (${status.engine})…\n${CLICK}`, severity: "normal" };
    case "ready": {
      const parts = [status.model];
      if (status.fromCache === true) parts.push("cached");
      else if (status.lastLatencyMs !== undefined) parts.push(formatLatency(status.lastLatencyMs));
      if (status.fromCache !== true && status.tokensPerSecond !== undefined && Number.isFinite(status.tokensPerSecond)) parts.push(`${formatRate(status.tokensPerSecond)} tok/s`);
      const last = status.lastLatencyMs === undefined ? "No suggestion yet." : `Last suggestion: ${formatLatency(status.lastLatencyMs)}${status.fromCache === true ? " (from cache)" : ""}.`;
      return { text: `$(sparkle) SLM ${parts.join(" · ")}`, tooltip: `SLM Lab completions: ${status.model} (${status.engine}).\n${last}\n${CLICK}`, severity: "normal" };
    }
    case "error": {
      const action = status.action === undefined ? "" : `\n${status.action}`;
      return {
        text: `$(error) SLM: ${status.summary}`,
        tooltip: `${status.model} (${status.engine}): ${status.message}${action}\n${CLICK}`,
        severity: "error",
      };
    }
  }
}

/** "48", "3.2", "0.31": enough digits to tell a slow machine from a stopped one. */
export function formatRate(perSecond: number): string {
  return perSecond >= 10 ? perSecond.toFixed(0) : perSecond >= 1 ? perSecond.toFixed(1) : perSecond.toPrecision(2);
}

/** "230 ms", "1.4 s". */
export function formatLatency(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Tokens per second of a generation, or undefined when it cannot be told (nothing generated, no time). */
export function tokensPerSecond(generatedTokens: number, totalMs: number, firstTokenMs: number | undefined): number | undefined {
  // After the first token the rate is generation alone; without it, the whole request (prompt included).
  const generationMs = firstTokenMs === undefined ? totalMs : totalMs - firstTokenMs;
  const tokens = firstTokenMs === undefined ? generatedTokens : generatedTokens - 1;
  if (tokens <= 0 || generationMs <= 0) return undefined;
  return (tokens * 1000) / generationMs;
}

/** A few words for the status bar from an engine error's message (the full message goes in the tooltip). */
export function errorSummary(message: string): string {
  const lower = message.toLowerCase();
  if (/econnrefused|cannot reach|not reachable|unreachable|connection refused|could not connect|cannot connect|is down/.test(lower)) return "endpoint down";
  if (/timed? ?out|timeout/.test(lower)) return "endpoint slow";
  if (/not found|no such file|enoent|does not exist/.test(lower)) return "model not found";
  if (/corrupt|truncated|not a gguf|invalid gguf|bad magic|malformed/.test(lower)) return "model unreadable";
  if (/memory|too big|does not fit|will not fit/.test(lower)) return "model too big";
  if (/unexpected|invalid json|garbage|could not parse|not json/.test(lower)) return "bad answer";
  if (lower.includes("needs a model name")) return "no model name";
  return "error";
}
