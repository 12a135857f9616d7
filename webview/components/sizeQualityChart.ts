/**
 * Size vs quality: one dot per variant at (file size, measured loss: KLD or ΔPPL against the parent), the Pareto front
 * drawn as a line through the variants nothing beats on both, and llama.cpp's typical loss for the same type as a
 * hollow diamond at the same size (what to expect before measuring). Colours are VS Code's chart colours.
 */
import { paretoFrontIndices } from "../../src/core/bench/paretoFront";
import type { ComparisonVariant } from "../../src/core/bench/quantizationComparison";
import { formatBytes } from "../../src/core/format/humanUnits";
import { formatTick, linearScale } from "../chartScales";
import type { QualityMetric } from "../protocol";
import { svgElement, withTitle } from "./svg";

const WIDTH = 560;
const HEIGHT = 300;
const MARGIN = { top: 16, right: 24, bottom: 44, left: 64 };

/** The loss a variant measured (the parent's is 0 by definition once it has a quality bench). */
export function measuredLoss(variant: ComparisonVariant, metric: QualityMetric): number | undefined {
  const bench = variant.bench;
  if (bench === undefined) return undefined;
  if (variant.isParent) return bench.perplexity === undefined ? undefined : 0;
  return metric === "kld" ? bench.meanKlDivergence : bench.deltaPerplexity;
}

function typicalLoss(variant: ComparisonVariant, metric: QualityMetric): number | undefined {
  return metric === "kld" ? variant.typical?.meanKlDivergence : variant.typical?.deltaPerplexity;
}

/** Draws the chart; returns the figure element (an <svg> with a caption). */
export function renderSizeQualityChart(variants: readonly ComparisonVariant[], metric: QualityMetric): HTMLElement {
  const metricName = metric === "kld" ? "KL divergence" : "ΔPPL";
  const figure = document.createElement("figure");
  figure.className = "chart size-quality";
  const measured = variants.map((variant) => measuredLoss(variant, metric));
  const typical = variants.map((variant) => typicalLoss(variant, metric));
  const losses = [...measured, ...typical].filter((value): value is number => value !== undefined);
  const svg = svgElement("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: "img", "aria-label": `File size against ${metricName}` });
  figure.appendChild(svg);
  if (variants.length === 0) return figure;

  const sizes = variants.map((variant) => variant.fileBytes / 2 ** 20);
  const x = linearScale(0, Math.max(...sizes), MARGIN.left, WIDTH - MARGIN.right);
  // ΔPPL can come out below 0 (the measurement's noise on a small text): the axis then starts below 0 too.
  const y = linearScale(Math.min(0, ...losses), losses.length === 0 ? 1 : Math.max(...losses), HEIGHT - MARGIN.bottom, MARGIN.top);
  drawAxes(svg, x, y, "File size (MiB)", `${metricName} vs parent (lower is better)`);

  // Pareto front over the measured points.
  const points = variants.flatMap((variant, index) => {
    const value = measured[index];
    return value === undefined ? [] : [{ index, cost: variant.fileBytes, loss: value }];
  });
  const front = paretoFrontIndices(points).map((position) => points[position]).filter((point) => point !== undefined);
  if (front.length > 1) {
    const path = front.map((point, order) => `${order === 0 ? "M" : "L"}${x(point.cost / 2 ** 20).toFixed(1)},${y(point.loss).toFixed(1)}`).join(" ");
    svg.appendChild(withTitle(svgElement("path", { d: path, class: "pareto-line" }), "Pareto front: no other variant is both smaller and better"));
  }
  const onFront = new Set(front.map((point) => point.index));

  variants.forEach((variant, index) => {
    const cx = x(sizes[index] ?? 0);
    const expected = typical[index];
    if (expected !== undefined && !variant.isParent) {
      const cy = y(expected);
      svg.appendChild(
        withTitle(
          svgElement("path", { d: `M${cx},${cy - 5} L${cx + 5},${cy} L${cx},${cy + 5} L${cx - 5},${cy} Z`, class: "mark typical", "data-type": variant.fileType }),
          `${variant.fileType}: typical ${metricName} ${expected} (llama.cpp, Llama-3-8B)`,
        ),
      );
    }
    const value = measured[index];
    if (value === undefined) return;
    const cy = y(value);
    const classes = ["mark", "measured", onFront.has(index) ? "pareto" : "dominated", variant.isParent ? "parent" : ""].filter(Boolean).join(" ");
    svg.appendChild(
      withTitle(
        svgElement("circle", { cx, cy, r: onFront.has(index) ? 6 : 4.5, class: classes, "data-type": variant.fileType }),
        `${variant.fileName}: ${formatBytes(variant.fileBytes)}, ${metricName} ${value.toFixed(4)}${onFront.has(index) ? " (on the Pareto front)" : ""}`,
      ),
    );
    svg.appendChild(svgElement("text", { x: cx + 8, y: cy - 8, class: "point-label" }, variant.fileType));
  });
  // Variants with only a typical value still get a label at their diamond.
  variants.forEach((variant, index) => {
    const expected = typical[index];
    if (measured[index] !== undefined || expected === undefined || variant.isParent) return;
    svg.appendChild(svgElement("text", { x: x(sizes[index] ?? 0) + 8, y: y(expected) - 8, class: "point-label muted" }, variant.fileType));
  });

  const caption = document.createElement("figcaption");
  const measuredCount = points.length;
  caption.textContent =
    measuredCount === 0
      ? `No ${metricName} measured yet: the hollow diamonds are llama.cpp's typical values for each type. Run bench to measure this model.`
      : `● measured on this model · ◇ llama.cpp's typical value (Llama-3-8B) · line: Pareto front (${front.length} of ${measuredCount} measured variants).`;
  figure.appendChild(caption);
  return figure;
}

function drawAxes(svg: SVGSVGElement, x: ReturnType<typeof linearScale>, y: ReturnType<typeof linearScale>, xLabel: string, yLabel: string): void {
  const bottom = HEIGHT - MARGIN.bottom;
  for (const tick of y.ticks) {
    svg.appendChild(svgElement("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick), class: "grid" }));
    svg.appendChild(svgElement("text", { x: MARGIN.left - 6, y: y(tick) + 4, class: "tick", "text-anchor": "end" }, formatTick(tick, y.ticks)));
  }
  for (const tick of x.ticks) {
    svg.appendChild(svgElement("line", { x1: x(tick), x2: x(tick), y1: bottom, y2: bottom + 4, class: "axis" }));
    svg.appendChild(svgElement("text", { x: x(tick), y: bottom + 18, class: "tick", "text-anchor": "middle" }, formatTick(tick, x.ticks)));
  }
  svg.appendChild(svgElement("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: bottom, y2: bottom, class: "axis" }));
  svg.appendChild(svgElement("line", { x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: bottom, class: "axis" }));
  svg.appendChild(svgElement("text", { x: (MARGIN.left + WIDTH - MARGIN.right) / 2, y: HEIGHT - 6, class: "axis-label", "text-anchor": "middle" }, xLabel));
  svg.appendChild(svgElement("text", { x: 14, y: (MARGIN.top + bottom) / 2, class: "axis-label", "text-anchor": "middle", transform: `rotate(-90 14 ${(MARGIN.top + bottom) / 2})` }, yLabel));
}
