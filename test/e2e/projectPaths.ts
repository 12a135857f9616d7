/** Where things are, for the e2e scripts (run by tsx from anywhere inside the repository). */
import path from "node:path";

/** The repository root: the folder of SLM Lab's package.json, and the extension's development path. */
export const projectRoot = path.resolve(__dirname, "..", "..");

/** Screenshots and logs of e2e runs (gitignored; emptied at the start of each run). */
export const testResultsDir = path.join(projectRoot, "test-results", "e2e");
