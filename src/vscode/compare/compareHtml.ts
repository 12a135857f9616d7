/**
 * The Compare Quantizations page shell: no data in the HTML (it arrives by message after the page says `ready`), one
 * module script with a nonce, one stylesheet from dist/webview. Pure (no `vscode` import) so a unit test can read the CSP.
 */
import { escapeHtml } from "../modelInfoHtml";

export interface CompareHtmlInput {
  /** `webview.cspSource`. */
  readonly cspSource: string;
  /** Fresh per page load. */
  readonly nonce: string;
  /** `webview.asWebviewUri` of dist/webview/main.js and main.css. */
  readonly scriptUri: string;
  readonly styleUri: string;
  readonly title: string;
}

/**
 * The Content-Security-Policy: nothing by default; scripts only with the nonce; styles only from the extension's
 * files (vscode-elements styles its shadow roots with constructable stylesheets, which CSP does not govern, so no
 * 'unsafe-inline'); no images, fonts, frames or connections.
 */
export function compareContentSecurityPolicy(cspSource: string, nonce: string): string {
  return [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src ${cspSource}`].join("; ");
}

/** The page. */
export function renderCompareHtml(input: CompareHtmlInput): string {
  const csp = compareContentSecurityPolicy(input.cspSource, input.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(input.styleUri)}">
<title>${escapeHtml(input.title)}</title>
</head>
<body>
<noscript>Compare Quantizations needs scripts enabled in webviews.</noscript>
<script type="module" nonce="${escapeHtml(input.nonce)}" src="${escapeHtml(input.scriptUri)}"></script>
</body>
</html>
`;
}
