/**
 * Size classes of the curated catalog, derived from the parameter count (never stored next to it, so the two cannot
 * disagree). Bounds from issue 4: Micro 0.1–1.4B, Small 1.5–13.9B, Medium 14–30B; the gaps between those decimal
 * labels are closed by making each lower bound inclusive and each upper bound exclusive (1.45B is Micro).
 */

export const SIZE_CLASSES = ["micro", "small", "medium"] as const;

export type SizeClass = (typeof SIZE_CLASSES)[number];

interface SizeClassSpec {
  readonly label: string;
  /** Inclusive lower bound, in parameters. */
  readonly min: number;
  /** Exclusive upper bound, except Medium whose 30B is inclusive. */
  readonly max: number;
  /** The range as the issue words it, for headings. */
  readonly range: string;
}

export const SIZE_CLASS_SPECS: Readonly<Record<SizeClass, SizeClassSpec>> = {
  micro: { label: "Micro", min: 0.1e9, max: 1.5e9, range: "0.1–1.4B" },
  small: { label: "Small", min: 1.5e9, max: 14e9, range: "1.5–13.9B" },
  medium: { label: "Medium", min: 14e9, max: 30e9, range: "14–30B" },
};

/** The size class of a model with `parameters` weights, or undefined outside 0.1–30B. */
export function sizeClassOf(parameters: number): SizeClass | undefined {
  if (!Number.isFinite(parameters)) return undefined;
  for (const sizeClass of SIZE_CLASSES) {
    const { min, max } = SIZE_CLASS_SPECS[sizeClass];
    const belowMax = sizeClass === "medium" ? parameters <= max : parameters < max;
    if (parameters >= min && belowMax) return sizeClass;
  }
  return undefined;
}

/** Whether `value` names a size class ("micro", "small", "medium"). */
export function isSizeClass(value: string): value is SizeClass {
  return (SIZE_CLASSES as readonly string[]).includes(value);
}

