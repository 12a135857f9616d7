/**
 * Ollama's model store, read-only. Layout (ollama `server/modelpath.go`, `server/manifest.go`; the manifest format is
 * documented in `server/internal/manifest/manifest.go`):
 * `<models>/manifests/<host>/<namespace>/<model>/<tag>` is a Docker-style manifest JSON whose `layers` name blobs by
 * digest; the layer with media type `application/vnd.ollama.image.model` is the GGUF, stored as
 * `<models>/blobs/sha256-<hex>`. `<models>` is `$OLLAMA_MODELS`, else `~/.ollama/models` (the Linux service keeps
 * its own under `/usr/share/ollama/.ollama/models`).
 */

import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { throwIfAborted } from "../errors";
import type { DiscoveredGgufFile } from "./ggufFileDiscovery";

/** The media type of the layer that holds the model weights (a GGUF file). */
export const OLLAMA_MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model";
/** The registry of `ollama pull <name>`; its models are named without host (and without `library/`). */
const DEFAULT_REGISTRY = "registry.ollama.ai";

/** A model of the Ollama store: its GGUF blob, with the name `ollama run` takes. */
export interface OllamaModelFile extends DiscoveredGgufFile {
  /** "qwen2.5-coder:0.5b", "hf.co/bartowski/SmolLM2-135M-GGUF:Q4_K_M", "someone/model:latest". */
  readonly name: string;
  /** The manifest that names the blob. */
  readonly manifestPath: string;
  /** "sha256:<hex>". */
  readonly digest: string;
}

export interface OllamaScan {
  readonly files: readonly OllamaModelFile[];
  /** Unreadable manifests and similar; one line each. */
  readonly problems: readonly string[];
}

/** The Ollama models folder: `$OLLAMA_MODELS`, else `~/.ollama/models`. */
export function resolveOllamaModelsDirectory(env: NodeJS.ProcessEnv = process.env, homeDirectory: string = os.homedir()): string {
  const configured = env["OLLAMA_MODELS"];
  if (configured !== undefined && configured !== "") {
    return path.resolve(configured === "~" || configured.startsWith("~/") ? path.join(homeDirectory, configured.slice(1)) : configured);
  }
  return path.join(homeDirectory, ".ollama", "models");
}

/** The digest of a manifest's model layer; undefined when the JSON is not an Ollama manifest or has no model layer. */
export function modelDigestOfManifest(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || !("layers" in parsed) || !Array.isArray(parsed.layers)) return undefined;
  for (const layer of parsed.layers as unknown[]) {
    if (typeof layer !== "object" || layer === null) continue;
    const { mediaType, digest } = layer as { mediaType?: unknown; digest?: unknown };
    if (mediaType === OLLAMA_MODEL_MEDIA_TYPE && typeof digest === "string" && /^sha256:[0-9a-f]{64}$/.test(digest)) return digest;
  }
  return undefined;
}

/** The name `ollama run` takes for a manifest at `<host>/<namespace>/<model>/<tag>`. */
export function ollamaModelName(host: string, namespace: string, model: string, tag: string): string {
  if (host === DEFAULT_REGISTRY) return namespace === "library" ? `${model}:${tag}` : `${namespace}/${model}:${tag}`;
  return `${host}/${namespace}/${model}:${tag}`;
}

/** Lists the models of an Ollama store (a missing folder gives none). Blobs two manifests share are listed once each. */
export async function findOllamaModels(modelsDirectory: string, signal?: AbortSignal): Promise<OllamaScan> {
  const files: OllamaModelFile[] = [];
  const problems: string[] = [];
  const manifests = path.join(modelsDirectory, "manifests");
  const list = async (directory: string): Promise<string[]> => {
    try {
      return (await fs.readdir(directory, { withFileTypes: true })).filter((entry) => entry.isDirectory() || entry.isFile()).map((entry) => entry.name).sort();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") problems.push(`Cannot read folder ${directory}: ${code ?? String(error)}`);
      return [];
    }
  };
  for (const host of await list(manifests)) {
    for (const namespace of await list(path.join(manifests, host))) {
      for (const model of await list(path.join(manifests, host, namespace))) {
        for (const tag of await list(path.join(manifests, host, namespace, model))) {
          throwIfAborted(signal);
          const manifestPath = path.join(manifests, host, namespace, model, tag);
          const name = ollamaModelName(host, namespace, model, tag);
          const found = await modelFileOf(modelsDirectory, manifestPath, name, [host, namespace, model, tag].join("/"));
          if (typeof found === "string") problems.push(found);
          else if (found !== undefined) files.push(found);
        }
      }
    }
  }
  return { files, problems };
}

async function modelFileOf(modelsDirectory: string, manifestPath: string, name: string, relative: string): Promise<OllamaModelFile | string | undefined> {
  let text: string;
  try {
    const stat = await fs.stat(manifestPath);
    if (!stat.isFile() || stat.size > 1024 * 1024) return undefined;
    text = await fs.readFile(manifestPath, "utf8");
  } catch (error) {
    return `Cannot read Ollama manifest ${manifestPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  }
  const digest = modelDigestOfManifest(text);
  // Manifests without a model layer (adapters, or not an Ollama manifest at all) are not models to list.
  if (digest === undefined) return undefined;
  const blob = path.join(modelsDirectory, "blobs", digest.replace(":", "-"));
  const base = { name, manifestPath, digest, path: blob, relativePath: relative };
  try {
    const stat = await fs.stat(blob);
    return { ...base, realPath: await fs.realpath(blob), size: stat.size, mtimeMs: stat.mtimeMs, error: undefined };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "its blob is missing (run `ollama pull` again)" : code ?? String(error);
    return { ...base, realPath: blob, size: 0, mtimeMs: 0, error: `Cannot read Ollama model ${name}: ${why}.` };
  }
}
