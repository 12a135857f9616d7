/**
 * The F16/BF16 parent's top-k log-probabilities at every scored position of a text, stored once per (parent sha256,
 * text sha256, context size) so each quantized variant's KL divergence costs one pass of the variant only. Binary
 * file: "SLMTOPK1", a little-endian uint32 header length, the JSON header, padding to 4 bytes, then the token ids
 * (int32, positions × k) and their log-probabilities (float32, positions × k), most likely first.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors";
import { tempSiblingPath } from "../fs/tempSibling";

const MAGIC = "SLMTOPK1";

/** Tokens kept per position: enough for nearly all of a trained model's probability mass. */
export const BASELINE_TOP_K = 64;

export interface BaselineHeader {
  readonly version: 1;
  readonly modelSha256: string;
  readonly textSha256: string;
  readonly contextSize: number;
  readonly topK: number;
  readonly vocabSize: number;
  /** Scored positions (chunks × (ctx − ctx/2 − 1)). */
  readonly positions: number;
  readonly chunks: number;
  /** sha256 of the tokenized text (int32 LE): a variant must tokenize the text identically. */
  readonly tokensSha256: string;
  readonly perplexity: number;
  readonly perplexityError: number;
}

export interface BaselineLogProbs {
  readonly header: BaselineHeader;
  readonly ids: Int32Array;
  readonly logProbs: Float32Array;
}

/** The cache file of one (parent, text, context) in `cacheDir`. */
export function baselineCachePath(cacheDir: string, modelSha256: string, textSha256: string, contextSize: number): string {
  return path.join(cacheDir, `${modelSha256.slice(0, 16)}-${textSha256.slice(0, 16)}-c${contextSize}-k${BASELINE_TOP_K}.topk`);
}

/** Writes a baseline file (temp name, then rename). */
export async function writeBaselineLogProbs(file: string, baseline: BaselineLogProbs): Promise<void> {
  const headerBytes = Buffer.from(JSON.stringify(baseline.header), "utf8");
  const prefixLength = MAGIC.length + 4 + headerBytes.length;
  const padding = (4 - (prefixLength % 4)) % 4;
  const prefix = Buffer.alloc(prefixLength + padding);
  prefix.write(MAGIC, 0, "latin1");
  prefix.writeUInt32LE(headerBytes.length, MAGIC.length);
  headerBytes.copy(prefix, MAGIC.length + 4);
  const temp = tempSiblingPath(file);
  try {
    await writeFile(temp, Buffer.concat([
      prefix,
      Buffer.from(baseline.ids.buffer, baseline.ids.byteOffset, baseline.ids.byteLength),
      Buffer.from(baseline.logProbs.buffer, baseline.logProbs.byteOffset, baseline.logProbs.byteLength),
    ]));
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}

/** Reads a baseline file; a damaged one is a UserError that says to delete it. */
export async function readBaselineLogProbs(file: string): Promise<BaselineLogProbs> {
  const bytes = await readFile(file);
  const damaged = (why: string): UserError =>
    new UserError(`The stored baseline log-probabilities ${file} are damaged (${why}).`, { action: "Delete the file; the next bench computes it again." });
  if (bytes.length < MAGIC.length + 4 || bytes.toString("latin1", 0, MAGIC.length) !== MAGIC) throw damaged("not a baseline file");
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const headerEnd = MAGIC.length + 4 + headerLength;
  if (headerEnd > bytes.length) throw damaged("truncated header");
  let header: BaselineHeader;
  try {
    // Checked field by field below: the file may come from another SLM Lab version.
    header = JSON.parse(bytes.toString("utf8", MAGIC.length + 4, headerEnd)) as BaselineHeader;
  } catch (error: unknown) {
    throw damaged(error instanceof Error ? error.message : "bad header");
  }
  const dataStart = headerEnd + ((4 - (headerEnd % 4)) % 4);
  const count = header.positions * header.topK;
  if ((header.version as number) !== 1 || !Number.isInteger(count) || count < 0 || dataStart + count * 8 !== bytes.length) throw damaged("unexpected length");
  // Copy into aligned buffers (the Buffer may sit at any offset of a shared pool).
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset + dataStart, count * 8).slice();
  return { header, ids: new Int32Array(data.buffer, 0, count), logProbs: new Float32Array(data.buffer, count * 4, count) };
}
