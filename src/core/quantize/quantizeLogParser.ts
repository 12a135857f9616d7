/**
 * Reads llama.cpp's quantize log (`llama_model_quantize_impl` in src/llama-quant.cpp): one line per tensor,
 * `[  12/  26] blk.0.attn_q.weight - [  256,   256,     1,     1], type =    f16, converting to q4_0 .. size = …`
 * (with --dry-run: `size = 0.12 MiB -> 0.04 MiB (q4_0)`), plus the errors and warnings that explain a failure.
 */

/** One tensor line: the tensor llama.cpp has just finished (the line is logged in pieces, ending when it is done). */
export interface QuantizeTensorLine {
  /** 1-based, as llama.cpp counts. */
  readonly index: number;
  readonly count: number;
  readonly name: string;
  /** ne[0..3] as logged. */
  readonly shape: readonly number[];
  /** ggml type name before, as logged ("f16"). */
  readonly sourceType: string;
  /** ggml type name after ("q4_0", "q6_K"); the source type when the tensor is copied unchanged. */
  readonly targetType: string;
}

const TENSOR_LINE =
  /^\[\s*(\d+)\/\s*(\d+)\]\s+(\S+)\s+-\s+\[([\d,\s]+)\],\s+type\s+=\s+(\S+?),\s+(?:converting to (\S+) \.\. )?size\s+=.*?(?:\((\S+)\))?\s*$/;

/** The tensor line's fields, or undefined for any other line. */
export function parseTensorLine(line: string): QuantizeTensorLine | undefined {
  const match = TENSOR_LINE.exec(line);
  if (match === null) return undefined;
  const [, index, count, name, shape, sourceType, converted, dryRunType] = match;
  if (index === undefined || count === undefined || name === undefined || shape === undefined || sourceType === undefined) return undefined;
  return {
    index: Number(index),
    count: Number(count),
    name,
    shape: shape.split(",").map((dim) => Number(dim.trim())),
    sourceType,
    targetType: converted ?? dryRunType ?? sourceType,
  };
}

const TENSOR_HEADER = /^\[\s*\d+\/\s*\d+\]\s+\S+\s+-\s+\[[\d,\s]+\],\s+type\s+=\s+\S+?,\s*$/;
const TENSOR_TAIL = /^(?:converting to \S+ \.\. )?size\s+=/;

/**
 * Puts a tensor line back together when llama.cpp logs something in the middle of it: with an importance matrix it
 * prints `\n====== …: did not find weights for <tensor>\n` (or an imatrix-size notice) between the line's
 * `… type = f16, ` and its `converting to … size = …`. Other lines pass through unchanged.
 */
export class TensorLineAssembler {
  private header: string | undefined;

  /** The line to parse, or undefined while a tensor line is waiting for its end. */
  push(line: string): string | undefined {
    if (TENSOR_HEADER.test(line)) {
      this.header = line;
      return undefined;
    }
    if (this.header !== undefined && TENSOR_TAIL.test(line)) {
      const whole = `${this.header}${line}`;
      this.header = undefined;
      return whole;
    }
    return line;
  }
}

/** `llama_model_quantize: failed to quantize: <what>`: llama.cpp's reason, or undefined. */
export function parseFailureLine(line: string): string | undefined {
  return /failed to quantize: (.+)$/.exec(line)?.[1]?.trim();
}

/** The dry run's warning that the real run would need an importance matrix. */
export function isImatrixRequiredWarning(line: string): boolean {
  return line.includes('will require an imatrix');
}

/** Whether llama.cpp's failure reason (`parseFailureLine`) is a missing importance matrix. */
export function isImatrixRequiredFailure(failure: string | undefined): boolean {
  return failure !== undefined && /requires an imatrix/i.test(failure);
}

/** Splits text that arrives in pieces (llama.cpp logs a tensor line in several calls) into whole lines. */
export class LogLineSplitter {
  private pending = "";

  /** Adds a piece; returns the lines it completed. */
  push(text: string): string[] {
    this.pending += text;
    const parts = this.pending.split("\n");
    this.pending = parts.pop() ?? "";
    return parts;
  }

  /** What is left without a newline at the end. */
  flush(): string[] {
    const rest = this.pending;
    this.pending = "";
    return rest === "" ? [] : [rest];
  }
}
