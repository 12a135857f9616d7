/**
 * Rotary position embedding as transformers computes it (modeling_rope_utils.py `ROPE_INIT_FUNCTIONS`: default,
 * llama3, longrope) and applies it (`apply_rotary_pos_emb` with `rotate_half`: dimension i of a head's rotated part
 * pairs with i + rotaryDim/2, the "NeoX" layout of HF weights; Phi3's partial rotary leaves the tail unrotated).
 */

/** Inverse frequencies and the factor cos/sin are multiplied by. */
export interface RopeTable {
  readonly inverseFrequencies: readonly number[];
  readonly attentionScaling: number;
  /** Rotated dimensions of a head (≤ head dim). */
  readonly rotaryDim: number;
}

export interface RopeConfig {
  readonly base: number;
  readonly rotaryDim: number;
  /** config.json `rope_scaling` (null/undefined: plain RoPE). */
  readonly scaling: Readonly<Record<string, unknown>> | undefined;
  readonly maxPositionEmbeddings: number;
  /** Top-level `original_max_position_embeddings` (Phi3 puts it there). */
  readonly originalMaxPositionEmbeddings: number | undefined;
  /** Longest sequence the table is for: longrope picks its long factors past the original context. */
  readonly sequenceLength: number;
}

function numberField(fields: Readonly<Record<string, unknown>>, key: string): number {
  const value = fields[key];
  if (typeof value !== "number") throw new Error(`rope_scaling.${key} is not a number`);
  return value;
}

/** transformers' inv_freq and attention_factor for a rope config. */
export function ropeTable(config: RopeConfig): RopeTable {
  const dim = config.rotaryDim;
  const plain: number[] = [];
  for (let index = 0; index < dim; index += 2) plain.push(1 / config.base ** (index / dim));
  const scaling = config.scaling;
  const type = scaling === undefined ? "default" : (scaling["rope_type"] ?? scaling["type"]);
  if (scaling === undefined || type === "default") return { inverseFrequencies: plain, attentionScaling: 1, rotaryDim: dim };
  if (type === "llama3") {
    // _compute_llama3_parameters.
    const factor = numberField(scaling, "factor");
    const lowFreqFactor = numberField(scaling, "low_freq_factor");
    const highFreqFactor = numberField(scaling, "high_freq_factor");
    const oldContext = numberField(scaling, "original_max_position_embeddings");
    const lowFreqWavelen = oldContext / lowFreqFactor;
    const highFreqWavelen = oldContext / highFreqFactor;
    const inverseFrequencies = plain.map((frequency) => {
      const wavelen = (2 * Math.PI) / frequency;
      const scaled = wavelen > lowFreqWavelen ? frequency / factor : frequency;
      if (wavelen < highFreqWavelen || wavelen > lowFreqWavelen) return scaled;
      const smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      return ((1 - smooth) * scaled) / factor + smooth * scaled;
    });
    return { inverseFrequencies, attentionScaling: 1, rotaryDim: dim };
  }
  if (type === "longrope") {
    // _compute_longrope_parameters: factor from the config's context lengths, attention factor from that.
    const original = config.originalMaxPositionEmbeddings ?? config.maxPositionEmbeddings;
    const factor = config.originalMaxPositionEmbeddings === undefined ? (typeof scaling["factor"] === "number" ? scaling["factor"] : 1) : config.maxPositionEmbeddings / original;
    const given = scaling["attention_factor"];
    const attentionScaling = typeof given === "number" ? given : factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original));
    const factors = scaling[config.sequenceLength > original ? "long_factor" : "short_factor"];
    if (!Array.isArray(factors) || factors.length !== plain.length) throw new Error(`rope_scaling factors must have ${plain.length} entries`);
    const inverseFrequencies = plain.map((frequency, index) => frequency / Number(factors[index]));
    return { inverseFrequencies, attentionScaling, rotaryDim: dim };
  }
  throw new Error(`reference forward pass: rope type ${String(type)} is not implemented`);
}

/** Rotates one head's vector in place (`q * cos + rotate_half(q) * sin` on the first rotaryDim dimensions). */
export function applyRope(head: Float64Array, offset: number, position: number, table: RopeTable): void {
  const half = table.rotaryDim / 2;
  for (let index = 0; index < half; index += 1) {
    const angle = position * (table.inverseFrequencies[index] ?? 0);
    const cos = Math.cos(angle) * table.attentionScaling;
    const sin = Math.sin(angle) * table.attentionScaling;
    const first = head[offset + index] ?? 0;
    const second = head[offset + index + half] ?? 0;
    head[offset + index] = first * cos - second * sin;
    head[offset + index + half] = second * cos + first * sin;
  }
}
