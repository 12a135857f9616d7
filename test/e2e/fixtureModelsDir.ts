/** Fills a models directory with generated fixture models, in the store's `<publisher>/<repo>/<file>.gguf` layout. */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import type { FixtureModelName } from "../fixtures/fixtureModelSpecs";

/** The publisher folder that fixture models are filed under. */
export const FIXTURE_PUBLISHER = "slm-lab-fixtures";

/** Generates (or reuses) each fixture and copies it into `modelsDirectory`; returns the copies' paths. */
export async function addFixtureModels(modelsDirectory: string, names: readonly FixtureModelName[]): Promise<string[]> {
  const copies: string[] = [];
  for (const name of names) {
    const source = await ensureFixtureModel(name);
    // Named as people name GGUF files (`<model>-<type>.gguf`): the cache name carries generator version, seed and commit.
    const target = path.join(modelsDirectory, FIXTURE_PUBLISHER, name, `${name}-f16.gguf`);
    if (!existsSync(target) || statSync(target).size !== statSync(source).size || statSync(target).mtimeMs < statSync(source).mtimeMs) {
      mkdirSync(path.dirname(target), { recursive: true });
      // A copy, not a link: the extension may delete models, and must never reach into the fixture cache.
      copyFileSync(source, target);
    }
    // The fixture's folder is ours: copies left by older generator versions would show up as extra models.
    for (const entry of readdirSync(path.dirname(target))) {
      if (entry !== path.basename(target)) rmSync(path.join(path.dirname(target), entry), { recursive: true, force: true });
    }
    copies.push(target);
  }
  return copies;
}
