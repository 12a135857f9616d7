/** Messages between convertCheckpoint (parent) and the convert child process (convertWorker.ts), over Node's IPC. */
import { type ConvertOptions, type ConvertProgress, type ConvertResult } from "./checkpointConversion";

/** Parent → child. */
export type ConvertParentMessage =
  | { readonly type: "convert"; readonly options: Omit<ConvertOptions, "signal" | "onProgress"> }
  | { readonly type: "cancel" };

/** A thrown error, flattened for IPC. */
export interface SerializedConvertError {
  readonly name: string;
  readonly message: string;
  readonly action: string | undefined;
  readonly causeHint: string | undefined;
  readonly code: string | undefined;
  readonly file: string | undefined;
  /** Whether it was a UserError (expected, user-facing) rather than a bug. */
  readonly user: boolean;
}

/** Child → parent. */
export type ConvertChildMessage =
  | { readonly type: "progress"; readonly progress: ConvertProgress }
  | { readonly type: "done"; readonly result: ConvertResult }
  | { readonly type: "failed"; readonly error: SerializedConvertError };

function isTyped(value: unknown): value is { readonly type: string } {
  return typeof value === "object" && value !== null && "type" in value && typeof value.type === "string";
}

/** Whether an IPC value is a child message (IPC data is untyped). */
export function isConvertChildMessage(value: unknown): value is ConvertChildMessage {
  return isTyped(value) && (value.type === "progress" || value.type === "done" || value.type === "failed");
}

/** Whether an IPC value is a parent message. */
export function isConvertParentMessage(value: unknown): value is ConvertParentMessage {
  return isTyped(value) && (value.type === "convert" || value.type === "cancel");
}
