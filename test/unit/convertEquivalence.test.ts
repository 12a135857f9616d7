// The converted GGUF computes the same function as the Hugging Face model: for every supported architecture the tiny
// checkpoint is converted to f32 and f16, run by node-llama-cpp (the bundled llama.cpp) on the same tokens as the
// plain-TypeScript reference forward pass of test/reference (written from the HF modeling code, on the checkpoint's
// own safetensors weights), and compared position by position: same top-1 token (where the reference's best two are
// more than twice the tolerance apart; in a near tie, one of the tied tokens), every logit within tolerance.
//
// Tolerances, relative to the largest |logit| of the reference over the sequence (≈ 20-30 here):
// - f32: 1e-5 (measured ≈ 4e-7: llama.cpp computes in float32; the reference in float64). Gemma 3: 1e-3, because
//   ggml's CPU GELU reads an f16 lookup table (ggml-cpu/vec.h GGML_GELU_FP16; measured ≈ 2e-4).
// - f16: 3e-3 (measured ≈ 1e-3: f16 weights, and ggml converts activations to f16 for f16 matrix products).
// The KV cache is float32 and flash attention off, so that the cache's own rounding is not measured.
// A wrong Q/K permutation, norm offset, fused-tensor split, RoPE base or sliding window moves logits by 3 to 30 (the
// last test measures two such mistakes on the reference itself).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { ControlledEvaluateInputItem, Llama, Token } from "node-llama-cpp" with { "resolution-mode": "import" };
import { convertCheckpointInProcess } from "../../src/core/convert/checkpointConversion";
import { readHfTokenizerFiles } from "../../src/core/convert/tokenizer/hfTokenizerFiles";
import { loadHfReferenceTokenizer } from "../../src/core/convert/tokenizer/hfReferenceTokenizer";
import { ensureHfCheckpoint, type HfCheckpointName } from "../fixtures/hfCheckpoints";
import { loadTestLlama } from "../fixtures/testLlama";
import { loadReferenceModel, referenceLogits } from "../reference/referenceForwardPass";

/** Code and prose, so that the ids are the model's real ones; long enough to cross Gemma's 8-token sliding window. */
const PROMPT = 'def fibonacci(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n';
const MAX_TOKENS = 24;

const CHECKPOINTS: readonly HfCheckpointName[] = ["tiny-llama", "tiny-qwen2", "tiny-qwen2-sharded", "tiny-qwen3", "tiny-phi4-mini", "tiny-gemma3"];

const TOLERANCE: Readonly<Record<"f32" | "f16", number>> = { f32: 1e-5, f16: 3e-3 };
const GEMMA_F32_TOLERANCE = 1e-3;

let llama: Llama;
let outDir: string;

before(async () => {
  llama = await loadTestLlama();
  outDir = await mkdtemp(path.join(tmpdir(), "slm-lab-convert-equivalence-"));
});

after(async () => {
  await llama.dispose();
  await rm(outDir, { recursive: true, force: true });
});

/** The prompt's ids as the model's own HF tokenizer gives them (special tokens added, as in use). */
async function promptTokens(dir: string): Promise<number[]> {
  const tokenizer = loadHfReferenceTokenizer(await readHfTokenizerFiles(dir));
  return tokenizer.encode(PROMPT, { addSpecialTokens: true }).slice(0, MAX_TOKENS);
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let index = 1; index < values.length; index += 1) if ((values[index] ?? -Infinity) > (values[best] ?? -Infinity)) best = index;
  return best;
}

/** How far the best logit is above the second best. */
function topMargin(values: Float32Array, best: number): number {
  let second = -Infinity;
  for (const [index, value] of values.entries()) if (index !== best && value > second) second = value;
  return (values[best] ?? 0) - second;
}

for (const name of CHECKPOINTS) {
  describe(`${name}: converted GGUF vs the reference forward pass`, () => {
    let dir: string;
    let tokens: number[];
    let reference: Float32Array[];

    before(async () => {
      dir = await ensureHfCheckpoint(name);
      tokens = await promptTokens(dir);
      reference = referenceLogits(await loadReferenceModel(dir), tokens);
    });

    for (const outType of ["f32", "f16"] as const) {
      test(`${outType}: same top-1 token at every position, logits within tolerance`, async (t) => {
        const outFile = path.join(outDir, `${name}-${outType}.gguf`);
        await convertCheckpointInProcess({ checkpointDir: dir, outFile, outType });
        const model = await llama.loadModel({ modelPath: outFile });
        try {
          const context = await model.createContext({
            contextSize: 64,
            threads: 2,
            flashAttention: false,
            experimentalKvCacheKeyType: "F32",
            experimentalKvCacheValueType: "F32",
          });
          try {
            const sequence = context.getSequence();
            const results = await sequence.controlledEvaluate(tokens.map((token): ControlledEvaluateInputItem => [token as Token, { generateNext: { logits: true } }]));
            const scale = reference.reduce((max, row) => row.reduce((rowMax, value) => Math.max(rowMax, Math.abs(value)), max), 0);
            const tolerance = (name === "tiny-gemma3" && outType === "f32" ? GEMMA_F32_TOLERANCE : TOLERANCE[outType]) * scale;
            let maxDiff = 0;
            for (const [position, expected] of reference.entries()) {
              const logits = results[position]?.next.logits ?? assert.fail(`no logits at position ${position}`);
              assert.equal(logits.size, expected.length, "a logit for every token of the vocabulary");
              const top = logits.keys().next().value ?? assert.fail("empty logits");
              const best = argmax(expected);
              if (topMargin(expected, best) > 2 * tolerance) assert.equal(top, best, `${name} ${outType}: top-1 token at position ${position}`);
              // A near tie in the reference (margin within the tolerance) may break either way; the top token must
              // still be one of the tied ones.
              else assert.ok((expected[best] ?? 0) - (expected[top] ?? -Infinity) <= 2 * tolerance, `${name} ${outType}: top-1 token at position ${position} is not among the reference's near-tied best`);
              for (const [token, value] of logits) maxDiff = Math.max(maxDiff, Math.abs(value - (expected[token] ?? NaN)));
            }
            t.diagnostic(`${name} ${outType}: ${tokens.length} positions, max |logit diff| ${maxDiff.toExponential(2)} (tolerance ${tolerance.toExponential(2)}, logit scale ${scale.toFixed(1)})`);
            assert.ok(maxDiff <= tolerance, `${name} ${outType}: max |logit diff| ${maxDiff} > tolerance ${tolerance}`);
          } finally {
            await context.dispose();
          }
        } finally {
          await model.dispose();
          await rm(outFile, { force: true });
        }
      });
    }
  });
}

/** Max |difference| between two runs of the reference. */
function maxDifference(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let max = 0;
  for (const [position, row] of a.entries()) for (const [token, value] of row.entries()) max = Math.max(max, Math.abs(value - (b[position]?.[token] ?? NaN)));
  return max;
}

test("the comparison can fail: the mistakes a converter makes move logits far beyond the tolerance", async (t) => {
  // Q/K rows in llama.cpp's interleaved RoPE layout instead of HF's halves (a missing or doubled permutation).
  const llamaDir = await ensureHfCheckpoint("tiny-llama");
  const llamaModel = await loadReferenceModel(llamaDir);
  const tokens = await promptTokens(llamaDir);
  const interleaved = new Map(llamaModel.weights);
  for (const [name, heads] of [["q_proj", llamaModel.heads], ["k_proj", llamaModel.kvHeads]] as const) {
    for (let layer = 0; layer < llamaModel.layers; layer += 1) {
      const key = `model.layers.${layer}.self_attn.${name}.weight`;
      const rows = llamaModel.weights.get(key) ?? assert.fail(key);
      const permuted = new Float32Array(rows.length);
      const half = llamaModel.headDim / 2;
      for (let head = 0; head < heads; head += 1) {
        for (let row = 0; row < llamaModel.headDim; row += 1) {
          const from = head * llamaModel.headDim + (row % 2 === 0 ? row / 2 : half + (row - 1) / 2);
          permuted.set(rows.subarray(from * llamaModel.hidden, (from + 1) * llamaModel.hidden), (head * llamaModel.headDim + row) * llamaModel.hidden);
        }
      }
      interleaved.set(key, permuted);
    }
  }
  const llamaShift = maxDifference(referenceLogits(llamaModel, tokens), referenceLogits({ ...llamaModel, weights: interleaved }, tokens));
  // Gemma's norms with the +1 applied twice (stored +1 and then added again).
  const gemmaDir = await ensureHfCheckpoint("tiny-gemma3");
  const gemmaModel = await loadReferenceModel(gemmaDir);
  const gemmaTokens = await promptTokens(gemmaDir);
  const offset = new Map([...gemmaModel.weights].map(([name, values]) => [name, name.includes("norm") ? values.map((value) => value + 1) : values]));
  const gemmaShift = maxDifference(referenceLogits(gemmaModel, gemmaTokens), referenceLogits({ ...gemmaModel, weights: offset }, gemmaTokens));
  const loosest = TOLERANCE.f16 * 30;
  t.diagnostic(`max |logit shift|: Q/K in the wrong RoPE layout ${llamaShift.toFixed(2)}, Gemma norm offset doubled ${gemmaShift.toFixed(2)} (loosest tolerance ${loosest.toFixed(2)})`);
  assert.ok(llamaShift > 10 * loosest, `Q/K layout: ${llamaShift}`);
  assert.ok(gemmaShift > 10 * loosest, `norm offset: ${gemmaShift}`);
});
