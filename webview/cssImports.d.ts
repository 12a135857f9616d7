/** esbuild bundles an imported stylesheet into dist/webview/main.css (the page links it; no inline styles). */
declare module "*.css";
