/** Label/value rows with the values lined up, the layout of `slm-lab info`. */

/** One row; rows whose value is undefined are left out. */
export type LabelledRow = readonly [label: string, value: string | undefined];

/** Renders rows as `<indent><label padded>  <value>` lines, each ending in a newline. */
export function formatAlignedRows(rows: readonly LabelledRow[], indent = "  "): string {
  const shown = rows.filter((row): row is readonly [string, string] => row[1] !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}\n`).join("");
}
