// The arithmetic of the bench (logitStatistics.ts) against direct computations: log-softmax as perplexity.cpp does it,
// top-k selection, the top-k KL divergence (exact when the top k hold all the mass, a lower bound otherwise),
// perplexity's ± estimate, and mean ± sample stddev.
import assert from "node:assert/strict";
import { test } from "node:test";
import { logProbability, meanAndStddev, PerplexityAccumulator, summarizeLogits, topKKlDivergence, topKLogProbabilities } from "../../src/core/bench/logitStatistics";
import { Random } from "../fixtures/seededRandom";

function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((value) => Math.exp(value - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
}

function randomLogits(size: number, seed: number, scale = 3): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: size }, () => (random.next() - 0.5) * 2 * scale);
}

test("log-probabilities equal log(softmax) and the argmax is the largest logit", () => {
  const logits = randomLogits(1000, 1);
  const summary = summarizeLogits(logits);
  const probs = softmax(Array.from(logits));
  for (const token of [0, 17, 999]) assert.ok(Math.abs(logProbability(logits, summary, token) - Math.log(probs[token] ?? 0)) < 1e-9);
  const argmax = probs.indexOf(Math.max(...probs));
  assert.equal(summary.argmax, argmax);
});

test("top-k returns the k most likely tokens, most likely first, with their log-probabilities", () => {
  const logits = randomLogits(500, 2);
  const summary = summarizeLogits(logits);
  const k = 8;
  const ids = new Int32Array(2 * k);
  const logProbs = new Float32Array(2 * k);
  topKLogProbabilities(logits, summary, k, ids, logProbs, k);
  const expected = Array.from(logits.keys()).sort((a, b) => (logits[b] ?? 0) - (logits[a] ?? 0)).slice(0, k);
  assert.deepEqual(Array.from(ids.subarray(k)), expected);
  assert.deepEqual(Array.from(ids.subarray(0, k)), new Array<number>(k).fill(0), "only the slot at the offset is written");
  for (let rank = 0; rank < k; rank++) assert.ok(Math.abs((logProbs[k + rank] ?? 0) - logProbability(logits, summary, expected[rank] ?? 0)) < 1e-6);
});

test("top-k KL divergence is 0 against itself, exact when k covers the vocabulary, a lower bound otherwise", () => {
  const size = 64;
  const p = randomLogits(size, 3);
  const q = Float32Array.from(p, (value, index) => value + 0.3 * Math.sin(index));
  const pSummary = summarizeLogits(p);
  const qSummary = summarizeLogits(q);
  const exact = softmax(Array.from(p)).reduce((sum, pi, i) => sum + pi * Math.log(pi / (softmax(Array.from(q))[i] ?? 1)), 0);

  const full = { ids: new Int32Array(size), logProbs: new Float32Array(size) };
  topKLogProbabilities(p, pSummary, size, full.ids, full.logProbs, 0);
  assert.ok(topKKlDivergence(full.ids, full.logProbs, 0, size, p, pSummary) < 1e-6, "KL(P‖P) ≈ 0");
  assert.ok(Math.abs(topKKlDivergence(full.ids, full.logProbs, 0, size, q, qSummary) - exact) < 1e-5, "k = vocabulary: exact");

  const k = 8;
  const top = { ids: new Int32Array(k), logProbs: new Float32Array(k) };
  topKLogProbabilities(p, pSummary, k, top.ids, top.logProbs, 0);
  const bound = topKKlDivergence(top.ids, top.logProbs, 0, k, q, qSummary);
  assert.ok(bound > 0 && bound <= exact + 1e-9, `${bound} is a lower bound of ${exact}`);
});

test("perplexity and its ± follow perplexity.cpp; mean ± stddev uses n − 1", () => {
  const accumulator = new PerplexityAccumulator();
  const logProbs = [-1, -2, -3, -4];
  for (const value of logProbs) accumulator.add(value);
  const { perplexity, error } = accumulator.result();
  assert.ok(Math.abs(perplexity - Math.exp(2.5)) < 1e-12);
  // nll2/count − mean² = 7.5 − 6.25 = 1.25; sqrt(1.25 / 3) × PPL.
  assert.ok(Math.abs(error - Math.sqrt(1.25 / 3) * Math.exp(2.5)) < 1e-12);
  assert.ok(Number.isNaN(new PerplexityAccumulator().result().perplexity));

  const stats = meanAndStddev([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(stats.mean, 5);
  assert.ok(Math.abs(stats.stddev - Math.sqrt(32 / 7)) < 1e-12);
  assert.deepEqual(meanAndStddev([]), { mean: 0, stddev: 0, samples: [] });
  assert.deepEqual(meanAndStddev([3]), { mean: 3, stddev: 0, samples: [3] });
});
