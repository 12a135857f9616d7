/**
 * RoPE settings of a config, gathered as convert_hf_to_gguf.py's `TextModel.__init__` does: `rope_parameters`
 * (transformers ≥ 5) or `rope_scaling`, with `rope_theta`, the local (sliding-window) theta, `partial_rotary_factor`
 * and `original_max_position_embeddings` mirrored in from the top level when the object lacks them.
 */
import { type HfConfig } from "../hfConfig";

export interface RopeParameters {
  /** The parameters of full-attention layers (`rope_parameters.full_attention` when split by layer type). */
  readonly full: Readonly<Record<string, unknown>>;
  /** rope_theta of sliding-window layers, when the config gives one. */
  readonly slidingTheta: number | undefined;
}

const THETA_KEYS = ["global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta", "rotary_emb_base"];
const LOCAL_THETA_KEYS = ["local_rope_theta", "rope_local_theta", "rope_theta_local", "swa_rope_theta", "rope_local_base_freq"];

export function ropeParameters(config: HfConfig): RopeParameters {
  const base: Record<string, unknown> = { ...(config.object("rope_parameters") ?? config.object("rope_scaling") ?? {}) };
  const first = (keys: readonly string[]): number | undefined => {
    for (const key of keys) if (config.has(key)) return config.number(key);
    return undefined;
  };
  if (!("full_attention" in base) && !("sliding_attention" in base)) {
    const local = first(LOCAL_THETA_KEYS);
    if (local !== undefined) base["sliding_attention"] = { rope_theta: local };
    const theta = first(THETA_KEYS);
    if (base["rope_theta"] === undefined && theta !== undefined) base["rope_theta"] = theta;
    if (base["rope_type"] === undefined && base["type"] !== undefined) base["rope_type"] = base["type"];
    const partial = config.optionalNumber("partial_rotary_factor");
    if (base["partial_rotary_factor"] === undefined && partial !== undefined) base["partial_rotary_factor"] = partial;
    const original = config.optionalPositiveInteger("original_max_position_embeddings");
    if (base["original_max_position_embeddings"] === undefined && original !== undefined) base["original_max_position_embeddings"] = original;
  }
  const fullValue = base["full_attention"];
  const full = typeof fullValue === "object" && fullValue !== null && !Array.isArray(fullValue) ? (fullValue as Record<string, unknown>) : base;
  const sliding = base["sliding_attention"];
  const slidingTheta =
    typeof sliding === "object" && sliding !== null && typeof (sliding as Record<string, unknown>)["rope_theta"] === "number"
      ? ((sliding as Record<string, unknown>)["rope_theta"] as number)
      : undefined;
  return { full, slidingTheta };
}
