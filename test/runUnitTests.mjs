// Runs every test/unit/**/*.test.ts with node:test (TypeScript through tsx). Extra args are passed to node --test,
// e.g. `npm run test:unit -- --test-name-pattern=gguf`.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findTests(full);
    return entry.name.endsWith(".test.ts") ? [full] : [];
  });
}

const files = findTests("test/unit").sort();
if (files.length === 0) {
  console.error("no unit tests found under test/unit");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...process.argv.slice(2), ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
