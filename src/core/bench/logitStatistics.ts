/**
 * The arithmetic of llama-perplexity (tools/perplexity/perplexity.cpp: log_softmax, the running nll / nll² sums and the
 * "± " estimate) and of a top-k KL divergence against a baseline's stored log-probabilities. Pure functions on one
 * position's logits, so the bench worker and the tests share them.
 */

/** The row's maximum, its index, and log Σ exp(logit − max): what every log-probability of the row needs. */
export interface LogitRowSummary {
  readonly max: number;
  readonly argmax: number;
  /** log Σ_i exp(logits[i] − max), summed in double precision as perplexity.cpp does. */
  readonly logSumExp: number;
}

/** One pass over the row: max and argmax, then the sum of exp(logit − max) (perplexity.cpp `log_softmax`). */
export function summarizeLogits(logits: Float32Array): LogitRowSummary {
  let max = logits[0] ?? 0;
  let argmax = 0;
  for (let i = 1; i < logits.length; i++) {
    const value = logits[i] ?? 0;
    if (value > max) {
      max = value;
      argmax = i;
    }
  }
  let sum = 0;
  for (const value of logits) sum += Math.exp(value - max);
  return { max, argmax, logSumExp: Math.log(sum) };
}

/** log p(token) under the row's softmax. */
export function logProbability(logits: Float32Array, summary: LogitRowSummary, token: number): number {
  return (logits[token] ?? Number.NEGATIVE_INFINITY) - summary.max - summary.logSumExp;
}

/**
 * The k most likely tokens of the row and their log-probabilities, most likely first, written at `offset` into
 * `ids` / `logProbs` (a min-heap of size k over one pass of the row).
 */
export function topKLogProbabilities(logits: Float32Array, summary: LogitRowSummary, k: number, ids: Int32Array, logProbs: Float32Array, offset: number): void {
  const heapIds = new Int32Array(k);
  const heapValues = new Float64Array(k);
  let size = 0;
  const siftDown = (start: number): void => {
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < size && (heapValues[left] ?? 0) < (heapValues[smallest] ?? 0)) smallest = left;
      if (right < size && (heapValues[right] ?? 0) < (heapValues[smallest] ?? 0)) smallest = right;
      if (smallest === i) return;
      const id = heapIds[i] ?? 0;
      const value = heapValues[i] ?? 0;
      heapIds[i] = heapIds[smallest] ?? 0;
      heapValues[i] = heapValues[smallest] ?? 0;
      heapIds[smallest] = id;
      heapValues[smallest] = value;
      i = smallest;
    }
  };
  for (let token = 0; token < logits.length; token++) {
    const value = logits[token] ?? Number.NEGATIVE_INFINITY;
    if (size < k) {
      // Sift up.
      let i = size++;
      heapIds[i] = token;
      heapValues[i] = value;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if ((heapValues[parent] ?? 0) <= (heapValues[i] ?? 0)) break;
        const id = heapIds[i] ?? 0;
        heapIds[i] = heapIds[parent] ?? 0;
        heapValues[i] = heapValues[parent] ?? 0;
        heapIds[parent] = id;
        heapValues[parent] = value;
        i = parent;
      }
    } else if (value > (heapValues[0] ?? 0)) {
      heapIds[0] = token;
      heapValues[0] = value;
      siftDown(0);
    }
  }
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => (heapValues[b] ?? 0) - (heapValues[a] ?? 0) || (heapIds[a] ?? 0) - (heapIds[b] ?? 0));
  for (let rank = 0; rank < k; rank++) {
    const slot = order[rank];
    ids[offset + rank] = slot === undefined ? -1 : (heapIds[slot] ?? -1);
    logProbs[offset + rank] = slot === undefined ? Number.NEGATIVE_INFINITY : (heapValues[slot] ?? 0) - summary.max - summary.logSumExp;
  }
}

/**
 * KL(P‖Q) of one position, P = the baseline (its top-k log-probs, most likely first), Q = this row's softmax. The
 * tokens outside the baseline's top k are merged into one "rest" outcome on both sides, so the value is a lower bound
 * of the full-vocabulary KLD (data-processing inequality) and equals it when the top k hold all of P's mass.
 */
export function topKKlDivergence(baselineIds: Int32Array, baselineLogProbs: Float32Array, offset: number, k: number, logits: Float32Array, summary: LogitRowSummary): number {
  let kl = 0;
  let pTop = 0;
  let qTop = 0;
  for (let rank = 0; rank < k; rank++) {
    const id = baselineIds[offset + rank] ?? -1;
    if (id < 0) continue;
    const lp = baselineLogProbs[offset + rank] ?? Number.NEGATIVE_INFINITY;
    const lq = logProbability(logits, summary, id);
    const p = Math.exp(lp);
    pTop += p;
    qTop += Math.exp(lq);
    kl += p * (lp - lq);
  }
  const pRest = 1 - pTop;
  if (pRest > 1e-9) kl += pRest * Math.log(pRest / Math.max(1 - qTop, 1e-30));
  return Math.max(0, kl);
}

/** perplexity.cpp's running sums: nll = Σ −log p, nll2 = Σ (log p)², over `count` scored tokens. */
export class PerplexityAccumulator {
  private nll = 0;
  private nll2 = 0;
  private scored = 0;

  /** Adds one scored token's log-probability. */
  add(logProb: number): void {
    this.nll -= logProb;
    this.nll2 += logProb * logProb;
    this.scored++;
  }

  get count(): number {
    return this.scored;
  }

  /** PPL = exp(mean nll) and perplexity.cpp's "± " (the standard error of the mean nll, times PPL). */
  result(): { readonly perplexity: number; readonly error: number } {
    if (this.scored === 0) return { perplexity: Number.NaN, error: Number.NaN };
    const mean = this.nll / this.scored;
    const perplexity = Math.exp(mean);
    const variance = this.nll2 / this.scored - mean * mean;
    const error = variance > 0 && this.scored > 1 ? Math.sqrt(variance / (this.scored - 1)) * perplexity : 0;
    return { perplexity, error };
  }
}

/**
 * Mean and sample standard deviation (llama-bench's avg / stdev: n − 1 in the denominator). No samples (a test that
 * was not run) gives 0 ± 0 with an empty `samples`, which stays valid JSON.
 */
export function meanAndStddev(samples: readonly number[]): { readonly mean: number; readonly stddev: number; readonly samples: readonly number[] } {
  const n = samples.length;
  if (n === 0) return { mean: 0, stddev: 0, samples: [] };
  const mean = samples.reduce((sum, value) => sum + value, 0) / n;
  if (n < 2) return { mean, stddev: 0, samples: [...samples] };
  const squares = samples.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { mean, stddev: Math.sqrt(squares / (n - 1)), samples: [...samples] };
}
