// src/core must never depend on VS Code: the CLI and the unit tests run it in plain Node (style.md, after Continue).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const coreDir = path.resolve(__dirname, "..", "..", "src", "core");

/** import … from "vscode", import "vscode", import("vscode"), require("vscode"), export … from "vscode", and subpaths. */
const VSCODE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)(["'`])vscode(?:\/[^"'`]*)?\1/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(c|m)?[jt]sx?$/.test(entry.name) ? [full] : [];
  });
}

test("the vscode import pattern catches every form (so the next test can fail)", () => {
  for (const line of [
    'import * as vscode from "vscode";',
    "import { window } from 'vscode';",
    'import type { Uri } from "vscode";',
    'import "vscode";',
    'const v = await import("vscode");',
    "const v = require('vscode');",
    'export { Uri } from "vscode";',
    "import {\n  window,\n} from \"vscode\";",
    'import x from "vscode/lib/x";',
  ]) {
    assert.match(line, VSCODE_IMPORT, line);
  }
  for (const line of ['import { x } from "./vscodeLike";', 'const name = "vscode";', 'import x from "vscode-languageclient";']) {
    assert.doesNotMatch(line, VSCODE_IMPORT, line);
  }
});

test("no file under src/core imports vscode", () => {
  const files = sourceFiles(coreDir);
  assert.ok(files.length > 0, `no sources found under ${coreDir}`);
  const offenders = files.filter((file) => VSCODE_IMPORT.test(readFileSync(file, "utf8"))).map((file) => path.relative(coreDir, file));
  assert.deepEqual(offenders, [], `src/core files importing vscode: ${offenders.join(", ")}`);
});
