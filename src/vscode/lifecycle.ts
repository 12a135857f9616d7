/**
 * Disposable lifecycle, after vscode-pull-request-github `src/common/lifecycle.ts`: every class that owns listeners,
 * watchers, timers or webviews extends `Disposable` and registers what it creates, so nothing outlives deactivate.
 */

/** Structurally the same as `vscode.Disposable`, so this module needs no `vscode` import and plain objects fit. */
export interface IDisposable {
  dispose(): void;
}

/** Wraps a clean-up function as a disposable. */
export function toDisposable(dispose: () => void): IDisposable {
  return { dispose };
}

/** Disposes in reverse order of registration (last created, first gone) and empties the array. */
export function disposeAll(disposables: IDisposable[]): void {
  const errors: unknown[] = [];
  while (disposables.length > 0) {
    const item = disposables.pop();
    try {
      item?.dispose();
    } catch (error) {
      // Keep disposing the rest: one failing listener must not leak the others.
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, "Several disposables failed to dispose.");
}

export abstract class Disposable implements IDisposable {
  private _isDisposed = false;
  private _disposables: IDisposable[] = [];

  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    const disposables = this._disposables;
    this._disposables = [];
    disposeAll(disposables);
  }

  /** Takes ownership of `value`; disposes it at once when this object is already disposed. */
  protected _register<T extends IDisposable>(value: T): T {
    if (this._isDisposed) {
      value.dispose();
    } else {
      this._disposables.push(value);
    }
    return value;
  }

  protected get isDisposed(): boolean {
    return this._isDisposed;
  }
}
