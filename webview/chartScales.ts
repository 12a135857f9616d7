/** Linear scales and "nice" axis ticks for the hand-drawn SVG charts (DOM-free). */

export interface LinearScale {
  (value: number): number;
  readonly domain: readonly [number, number];
  readonly ticks: readonly number[];
}

/** Ticks at 1, 2 or 5 × 10^k covering [min, max], about `count` of them (after d3-array's tickIncrement). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max <= min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const error = raw / power;
  const step = (error >= 7.5 ? 10 : error >= 3.5 ? 5 : error >= 1.5 ? 2 : 1) * power;
  const first = Math.floor(min / step) * step;
  const ticks: number[] = [];
  // Until a tick reaches max, so every value lies inside the axis (the epsilon absorbs float steps like 0.1 + 0.2).
  for (let i = 0; i < 1000; i++) {
    const tick = Number((first + i * step).toPrecision(12));
    ticks.push(tick);
    if (tick >= max - step * 1e-9) break;
  }
  return ticks;
}

/** A scale from [the first tick, the last tick] (so the axis ends on a tick) onto [rangeStart, rangeEnd]. */
export function linearScale(min: number, max: number, rangeStart: number, rangeEnd: number, tickCount = 5): LinearScale {
  const low = Math.min(min, max);
  const high = max > low ? max : low + (Math.abs(low) || 1);
  const ticks = niceTicks(low, high, tickCount);
  const d0 = ticks[0] ?? low;
  const d1 = ticks[ticks.length - 1] ?? high;
  const span = d1 - d0 || 1;
  const scale = (value: number): number => rangeStart + ((value - d0) / span) * (rangeEnd - rangeStart);
  return Object.assign(scale, { domain: [d0, d1] as const, ticks });
}

/** A tick label: no more digits than the step needs. */
export function formatTick(value: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs((ticks[1] ?? 0) - (ticks[0] ?? 0)) : Math.abs(value);
  const digits = step === 0 || step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
  return value.toFixed(digits);
}
