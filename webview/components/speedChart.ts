/**
 * Speed bars: prompt processing (pp) and generation (tg) tok/s per benchmarked variant, side by side as two panels
 * (pp is often 10× tg, one shared axis would flatten tg), each bar with a ± sample-stddev whisker.
 */
import type { ComparisonStat, ComparisonVariant } from "../../src/core/bench/quantizationComparison";
import { formatTick, linearScale } from "../chartScales";
import { svgElement, withTitle } from "./svg";

const PANEL_WIDTH = 300;
const BAR_HEIGHT = 16;
const BAR_GAP = 8;
const MARGIN = { top: 24, right: 24, bottom: 28, left: 72 };

interface Series {
  readonly id: "pp" | "tg";
  readonly title: string;
  readonly value: (variant: ComparisonVariant) => ComparisonStat | undefined;
}

/** Draws both panels for the variants that have a bench; returns the figure. */
export function renderSpeedChart(variants: readonly ComparisonVariant[]): HTMLElement {
  const figure = document.createElement("figure");
  figure.className = "chart speed";
  const benched = variants.filter((variant) => variant.bench !== undefined);
  const first = benched[0]?.bench;
  const series: Series[] = [
    { id: "pp", title: `Prompt processing${first === undefined ? "" : ` (pp${first.promptTokens})`}, tok/s`, value: (variant) => variant.bench?.promptTokensPerSecond },
    { id: "tg", title: `Generation${first === undefined ? "" : ` (tg${first.generatedTokens})`}, tok/s`, value: (variant) => variant.bench?.generationTokensPerSecond },
  ];
  if (benched.length > 0) {
    const panels = document.createElement("div");
    panels.className = "speed-panels";
    for (const entry of series) panels.appendChild(renderPanel(benched, entry));
    figure.appendChild(panels);
  }
  const caption = document.createElement("figcaption");
  caption.textContent =
    benched.length === 0
      ? "No speed measured yet: Run bench."
      : `Mean over repetitions; whiskers: ± sample stddev. ${[...new Set(benched.map((variant) => `${variant.bench?.threads ?? "?"} threads`))].join(", ")}.`;
  figure.appendChild(caption);
  return figure;
}

function renderPanel(variants: readonly ComparisonVariant[], series: Series): SVGSVGElement {
  const height = MARGIN.top + MARGIN.bottom + Math.max(1, variants.length) * (BAR_HEIGHT + BAR_GAP);
  const svg = svgElement("svg", { viewBox: `0 0 ${PANEL_WIDTH} ${height}`, width: PANEL_WIDTH, height, role: "img", "aria-label": series.title, class: `speed-panel ${series.id}` });
  svg.appendChild(svgElement("text", { x: MARGIN.left, y: 14, class: "panel-title" }, series.title));
  const highs = variants.map((variant) => {
    const value = series.value(variant);
    return value === undefined ? 0 : value.mean + value.stddev;
  });
  const x = linearScale(0, Math.max(1, ...highs), MARGIN.left, PANEL_WIDTH - MARGIN.right, 4);
  const bottom = height - MARGIN.bottom;
  for (const tick of x.ticks) {
    svg.appendChild(svgElement("line", { x1: x(tick), x2: x(tick), y1: MARGIN.top - 4, y2: bottom, class: "grid" }));
    svg.appendChild(svgElement("text", { x: x(tick), y: bottom + 16, class: "tick", "text-anchor": "middle" }, formatTick(tick, x.ticks)));
  }
  variants.forEach((variant, index) => {
    const value = series.value(variant);
    if (value === undefined) return;
    const top = MARGIN.top + index * (BAR_HEIGHT + BAR_GAP);
    const middle = top + BAR_HEIGHT / 2;
    svg.appendChild(svgElement("text", { x: MARGIN.left - 6, y: middle + 4, class: "tick bar-label", "text-anchor": "end" }, variant.fileType));
    const width = Math.max(1, x(value.mean) - x(0));
    svg.appendChild(
      withTitle(
        svgElement("rect", { x: x(0), y: top, width, height: BAR_HEIGHT, class: `mark bar ${series.id}${variant.isParent ? " parent" : ""}`, "data-type": variant.fileType }),
        `${variant.fileName}: ${value.mean.toFixed(1)} ± ${value.stddev.toFixed(1)} tok/s`,
      ),
    );
    if (value.stddev > 0) {
      const low = x(Math.max(0, value.mean - value.stddev));
      const high = x(value.mean + value.stddev);
      svg.appendChild(svgElement("path", { d: `M${low},${middle} H${high} M${low},${middle - 4} V${middle + 4} M${high},${middle - 4} V${middle + 4}`, class: "whisker" }));
    }
    svg.appendChild(svgElement("text", { x: x(value.mean + value.stddev) + 4, y: middle + 4, class: "value-label" }, value.mean.toFixed(1)));
  });
  return svg;
}
