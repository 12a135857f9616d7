/**
 * Long work under a cancellable progress notification: the notification's Cancel (and any other signal the caller
 * passes, such as the extension's disposal or a caller's own AbortSignal) aborts the one AbortSignal the core gets,
 * and the core's 0..1 fractions become VS Code's increments, which only move forward.
 */
import * as vscode from "vscode";

export interface CancellableProgress {
  /** Aborted by Cancel or by any of the extra signals. */
  readonly signal: AbortSignal;
  /** Reports the whole job's fraction done (0..1), with a message when there is one. */
  report(fraction: number, message?: string): void;
}

/** Runs `work` under a notification titled `title`, with Cancel. */
export async function withCancellableProgress<T>(title: string, work: (progress: CancellableProgress) => Promise<T>, extraSignals: readonly (AbortSignal | undefined)[] = []): Promise<T> {
  return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const onAbort = (): void => { abort.abort(); };
    const onCancel = token.onCancellationRequested(onAbort);
    const signals = extraSignals.filter((signal): signal is AbortSignal => signal !== undefined);
    for (const signal of signals) {
      if (signal.aborted) abort.abort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
    let reported = 0;
    try {
      return await work({
        signal: abort.signal,
        report: (fraction, message) => {
          const percent = Math.min(100, Math.max(0, fraction * 100));
          progress.report({ ...(message === undefined ? {} : { message }), increment: Math.max(0, percent - reported) });
          reported = Math.max(reported, percent);
        },
      });
    } finally {
      onCancel.dispose();
      for (const signal of signals) signal.removeEventListener("abort", onAbort);
    }
  });
}
