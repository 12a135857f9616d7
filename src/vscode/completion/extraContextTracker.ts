/**
 * Feeds the extra-context ring (src/core/completion/extraContext) from what the user does: a chunk around the last
 * edit of a document (a second after its last change, so typing costs nothing), around the cursor of the editor the
 * user leaves, and around the visible part of editors that become visible. Renamed and deleted files follow.
 * Only text the user has open is ever read; chunks are capped so a minified line cannot fill memory.
 */
import * as vscode from "vscode";
import { ExtraContextRing, type ContextChunk } from "../../core/completion/extraContext";
import { Disposable, toDisposable } from "../lifecycle";

/** Lines per chunk and chunks kept (llama.vscode: ring_chunk_size 64, ring_n_chunks 16). */
const CHUNK_LINES = 64;
const MAX_CHUNKS = 16;
/** Most characters of one chunk (minified files have enormous lines). */
const MAX_CHUNK_CHARS = 8_000;
/** Wait after a document's last change before taking its chunk. */
const EDIT_SETTLE_MS = 1_000;

export class ExtraContextTracker extends Disposable {
  readonly ring = new ExtraContextRing({ maxChunks: MAX_CHUNKS });
  private readonly pendingEdits = new Map<string, { timer: NodeJS.Timeout; line: number }>();

  constructor() {
    super();
    this._register(
      vscode.workspace.onDidChangeTextDocument((event) => {
        const change = event.contentChanges[0];
        if (change === undefined || !isTracked(event.document)) return;
        this.scheduleEdit(event.document, change.range.start.line);
      }),
    );
    let previous = vscode.window.activeTextEditor;
    this._register(
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (previous !== undefined && isTracked(previous.document) && !previous.document.isClosed) this.addAround(previous.document, previous.selection.active.line);
        previous = editor;
      }),
    );
    this._register(
      vscode.window.onDidChangeVisibleTextEditors((editors) => {
        for (const editor of editors) {
          const visible = editor.visibleRanges[0];
          if (visible !== undefined && isTracked(editor.document)) this.addAround(editor.document, Math.floor((visible.start.line + visible.end.line) / 2));
        }
      }),
    );
    this._register(
      vscode.workspace.onDidRenameFiles((event) => {
        for (const file of event.files) this.ring.renameFile(relativePath(file.oldUri), relativePath(file.newUri));
      }),
    );
    this._register(
      vscode.workspace.onDidDeleteFiles((event) => {
        for (const uri of event.files) this.ring.removeFile(relativePath(uri));
      }),
    );
    this._register(
      toDisposable(() => {
        for (const pending of this.pendingEdits.values()) clearTimeout(pending.timer);
        this.pendingEdits.clear();
        this.ring.clear();
      }),
    );
  }

  private scheduleEdit(document: vscode.TextDocument, line: number): void {
    const key = document.uri.toString();
    const pending = this.pendingEdits.get(key);
    if (pending !== undefined) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.pendingEdits.delete(key);
      if (!document.isClosed) this.addAround(document, line);
    }, EDIT_SETTLE_MS);
    this.pendingEdits.set(key, { timer, line });
  }

  /** Adds the chunk of `document` centred on `line` (read by line range: never the whole document). */
  addAround(document: vscode.TextDocument, line: number): void {
    const chunk = chunkAround(document, line);
    if (chunk !== undefined) this.ring.add(chunk);
  }
}

/** A chunk of CHUNK_LINES lines centred on `line`, capped at MAX_CHUNK_CHARS. */
export function chunkAround(document: vscode.TextDocument, line: number): ContextChunk | undefined {
  const lineCount = document.lineCount;
  const centre = Math.max(0, Math.min(lineCount - 1, line));
  const startLine = Math.max(0, Math.min(centre - Math.floor(CHUNK_LINES / 2), lineCount - CHUNK_LINES));
  const endLine = Math.min(lineCount, startLine + CHUNK_LINES);
  const end = endLine >= lineCount ? document.lineAt(lineCount - 1).range.end : new vscode.Position(endLine, 0);
  let text = document.getText(new vscode.Range(new vscode.Position(startLine, 0), end));
  if (text.length > MAX_CHUNK_CHARS) text = text.slice(0, MAX_CHUNK_CHARS);
  if (text.trim() === "") return undefined;
  return { filePath: relativePath(document.uri), startLine, endLine, text: text.replace(/\r\n/g, "\n") };
}

/** Workspace-relative path with `/` separators (what the model sees). */
export function relativePath(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, false).replace(/\\/g, "/");
}

/** Files and unsaved editors; not output channels, settings, git views or the like. */
function isTracked(document: vscode.TextDocument): boolean {
  return document.uri.scheme === "file" || document.uri.scheme === "untitled" || document.uri.scheme === "vscode-remote";
}
