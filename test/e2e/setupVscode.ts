/**
 * `npm run setup:e2e`: installs code-server, Node 24 and Chromium for the real-VS Code tests (see vscodeTools.ts).
 * run.ts and start.ts call the same function, so running this by hand is optional.
 */
import { ensureVscodeTools, formatSeconds } from "./vscodeTools";

async function main(): Promise<void> {
  const started = Date.now();
  const tools = await ensureVscodeTools();
  console.log(`[setup:e2e] ready in ${formatSeconds(Date.now() - started)}:`);
  console.log(`  node:        ${tools.nodeBinary}`);
  console.log(`  code-server: ${tools.codeServerEntry}`);
  console.log(`  chromium:    ${tools.chromiumPath}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
