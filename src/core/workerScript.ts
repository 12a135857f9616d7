/**
 * Where a worker's script is, for `fork`: the bundled `dist/workers/<name>.js` (esbuild builds every
 * `src/core/**\/*Worker.ts` there), or the TypeScript source next to the caller, run under tsx (tests, benches).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { UserError } from "./errors";

export interface WorkerScript {
  readonly script: string;
  readonly execArgv: readonly string[];
}

/**
 * The script of worker `name` (e.g. "quantizeWorker"). `callerDir` is the caller's `__dirname`: the bundle's folder
 * once bundled, the caller's source folder under tsx. `what` names the worker in the error ("quantize worker").
 */
export function workerScript(name: string, callerDir: string, what: string): WorkerScript {
  const candidates = [path.join(callerDir, "workers", `${name}.js`), path.join(callerDir, `${name}.js`)];
  for (const script of candidates) if (existsSync(script)) return { script, execArgv: [] };
  const source = path.join(callerDir, `${name}.ts`);
  if (existsSync(source)) return { script: source, execArgv: ["--import", "tsx"] };
  throw new UserError(`SLM Lab's ${what} is missing from this installation.`, { action: "Reinstall SLM Lab (or run npm run build)." });
}
