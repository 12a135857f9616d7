/**
 * The variants table: a real <table> (screen readers announce rows, columns and `aria-sort`), each header a button
 * that sorts by its column; a second click reverses. vscode-elements' <vscode-table> has no sorting, so it is not used.
 */
import type { ComparisonVariant } from "../../src/core/bench/quantizationComparison";
import type { SortColumn, SortDirection } from "../protocol";
import { sortVariants, variantColumns, type CellText } from "../variantColumns";

export interface TableSort {
  readonly column: SortColumn;
  readonly direction: SortDirection;
}

/** Draws the table sorted by `sort`; `onSort` gets the new sort when a header is clicked. */
export function renderVariantTable(variants: readonly ComparisonVariant[], sort: TableSort, onSort: (sort: TableSort) => void): HTMLTableElement {
  const columns = variantColumns(variants);
  const active = columns.find((column) => column.id === sort.column) ?? columns[0];
  const table = document.createElement("table");
  table.className = "variants";
  const head = table.createTHead().insertRow();
  for (const column of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.className = column.numeric ? "num" : "";
    th.dataset["column"] = column.id;
    const isActive = column === active;
    th.setAttribute("aria-sort", isActive ? sort.direction : "none");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.title = column.headerTitle;
    button.textContent = column.header;
    const arrow = document.createElement("span");
    arrow.className = "arrow";
    arrow.setAttribute("aria-hidden", "true");
    arrow.textContent = isActive ? (sort.direction === "ascending" ? "▲" : "▼") : "";
    button.appendChild(arrow);
    button.addEventListener("click", () => {
      const direction: SortDirection = isActive ? (sort.direction === "ascending" ? "descending" : "ascending") : column.higherIsBetter ? "descending" : "ascending";
      onSort({ column: column.id, direction });
    });
    th.appendChild(button);
    head.appendChild(th);
  }
  const body = table.createTBody();
  const rows = active === undefined ? [...variants] : sortVariants(variants, active, sort.direction);
  for (const variant of rows) {
    const row = body.insertRow();
    row.dataset["type"] = variant.fileType;
    if (variant.isParent) row.classList.add("parent");
    if (variant.bench === undefined) row.classList.add("unbenched");
    for (const column of columns) {
      // The variant's cell heads its row (screen readers name each number by it).
      const cell = column.id === "type" ? document.createElement("th") : document.createElement("td");
      if (cell instanceof HTMLTableCellElement && column.id === "type") cell.scope = "row";
      fillCell(cell, column.cell(variant), column.numeric);
      cell.dataset["column"] = column.id;
      row.appendChild(cell);
    }
  }
  return table;
}

function fillCell(cell: HTMLTableCellElement, content: CellText, numeric: boolean): void {
  cell.className = [numeric ? "num" : "", content.tone === undefined ? "" : `tone-${content.tone}`].filter(Boolean).join(" ");
  const main = document.createElement("span");
  main.className = "value";
  main.textContent = content.text;
  cell.appendChild(main);
  if (content.note !== undefined) {
    const note = document.createElement("span");
    note.className = "note";
    note.textContent = content.note;
    cell.appendChild(note);
  }
  if (content.title !== undefined) cell.title = content.title;
}
