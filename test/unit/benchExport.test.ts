// CSV and Markdown exports of the Compare Quantizations table: columns, quoting (RFC 4180), formula-safe text,
// empty cells for what was not measured, and a Markdown table that renders (header, alignment, one row per variant).
import assert from "node:assert/strict";
import { test } from "node:test";
import { comparisonToCsv, comparisonToMarkdown, CSV_COLUMNS } from "../../src/core/bench/benchExport";
import type { QuantizationComparison } from "../../src/core/bench/quantizationComparison";
import { sampleComparison } from "./compareTestRecords";

/** A small RFC 4180 reader, to check the writer by reading its output back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"') {
      quoted = true;
    } else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else {
      field += char;
    }
  }
  assert.equal(field, "", "the CSV ends with a line break");
  return rows;
}

void test("CSV: a header and one row per variant, raw numbers, empty cells where nothing was measured", () => {
  const comparison = sampleComparison();
  const rows = parseCsv(comparisonToCsv(comparison));
  assert.deepEqual(rows[0], [...CSV_COLUMNS]);
  assert.equal(rows.length, 1 + comparison.variants.length);
  const column = (name: (typeof CSV_COLUMNS)[number]): number => CSV_COLUMNS.indexOf(name);
  const byType = new Map(rows.slice(1).map((row) => [row[column("type")], row]));
  const q4 = byType.get("Q4_0");
  assert.ok(q4);
  assert.equal(q4.length, CSV_COLUMNS.length);
  assert.equal(q4[column("size_bytes")], "562500");
  assert.equal(q4[column("tg_tok_s_mean")], "30");
  assert.equal(q4[column("tg_tok_s_stddev")], "1.5");
  assert.equal(q4[column("kld")], "0.09");
  assert.equal(q4[column("delta_ppl")], "1.5");
  assert.equal(q4[column("typical_kld")], "0.0719");
  assert.equal(q4[column("parent")], "no");
  const q51 = byType.get("Q5_1");
  assert.ok(q51);
  assert.equal(q51[column("pp_tok_s_mean")], "", "not benchmarked: empty, not 0");
  assert.equal(q51[column("typical_delta_ppl")], "0.1062");
  assert.equal(byType.get("F16")?.[column("parent")], "yes");
});

void test("CSV: commas, quotes and line breaks are quoted; text that a spreadsheet would run as a formula is defused", () => {
  const base = sampleComparison();
  const [first] = base.variants;
  assert.ok(first);
  const comparison: QuantizationComparison = {
    ...base,
    variants: [
      { ...first, fileName: 'odd, "name"\nhere.gguf', modelPath: "/m/odd.gguf" },
      { ...first, fileName: "=HYPERLINK(\"x\").gguf", modelPath: "/m/f.gguf" },
    ],
  };
  const rows = parseCsv(comparisonToCsv(comparison));
  assert.equal(rows[1]?.[0], 'odd, "name"\nhere.gguf');
  assert.equal(rows[2]?.[0], "'=HYPERLINK(\"x\").gguf");
  assert.equal(rows[1].length, CSV_COLUMNS.length);
});

void test("Markdown: a table with the measured value, ± sd and the typical figure, and a legend", () => {
  const markdown = comparisonToMarkdown(sampleComparison());
  const lines = markdown.split("\n");
  assert.equal(lines[0], "# Quantizations of tiny");
  const tableLines = lines.filter((line) => line.startsWith("|"));
  assert.equal(tableLines.length, 2 + 4, "header, alignment, four variants");
  const cellCounts = new Set(tableLines.map((line) => line.split(" | ").length));
  assert.equal(cellCounts.size, 1, "every row has as many cells as the header");
  const q4 = tableLines.find((line) => line.includes("tiny-Q4_0.gguf"));
  assert.ok(q4);
  assert.match(q4, /\| 30\.0 ± 1\.5 \|/);
  assert.match(q4, /\| 0\.0900 \(0\.0719\) \|/);
  assert.match(q4, /\| 90\.0% \|/);
  const q51 = tableLines.find((line) => line.includes("tiny-Q5_1.gguf"));
  assert.match(q51 ?? "", /\| – \(0\.1062\) \|/);
  assert.match(markdown, /\(parent\)/);
  assert.match(markdown, /pp64\/tg16, 2 repetitions, 2 threads/);
  assert.match(markdown, /Llama-3-8B/);
});

void test("Markdown: a pipe in a file name does not break the table", () => {
  const base = sampleComparison();
  const [first] = base.variants;
  assert.ok(first);
  const markdown = comparisonToMarkdown({ ...base, variants: [{ ...first, fileName: "a|b.gguf" }] });
  assert.ok(markdown.includes("a\\|b.gguf"));
});
