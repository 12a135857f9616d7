/**
 * Finds what `JSON.parse` hides: keys repeated within one object (it silently keeps the last, while the safetensors
 * spec forbids duplicates), and where each top-level key starts, so that errors can name a byte offset.
 */

export interface JsonKeyScan {
  /** Character index of the opening quote of each top-level key (first occurrence). */
  readonly topLevelKeys: ReadonlyMap<string, number>;
  /** The first key found twice in one object, with the character index of its second occurrence. */
  readonly duplicate: { readonly key: string; readonly index: number; readonly topLevel: boolean } | undefined;
}

interface Frame {
  /** Keys seen so far in this object; undefined for an array. */
  readonly keys: Set<string> | undefined;
  expectingKey: boolean;
}

/** Scans the keys of every object in `text`, which must already be valid JSON (parsed by `JSON.parse`). */
export function scanJsonObjectKeys(text: string): JsonKeyScan {
  const topLevelKeys = new Map<string, number>();
  const stack: Frame[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text.charCodeAt(index);
    if (char === 0x7b /* { */) {
      stack.push({ keys: new Set(), expectingKey: true });
    } else if (char === 0x5b /* [ */) {
      stack.push({ keys: undefined, expectingKey: false });
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      stack.pop();
    } else if (char === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined) top.expectingKey = true;
    } else if (char === 0x22 /* " */) {
      const start = index;
      index += 1;
      while (index < text.length && text.charCodeAt(index) !== 0x22) index += text.charCodeAt(index) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined && top.expectingKey) {
        const key = JSON.parse(text.slice(start, index + 1)) as string;
        const topLevel = stack.length === 1;
        if (top.keys.has(key)) return { topLevelKeys, duplicate: { key, index: start, topLevel } };
        top.keys.add(key);
        if (topLevel) topLevelKeys.set(key, start);
        top.expectingKey = false;
      }
    }
    index += 1;
  }
  return { topLevelKeys, duplicate: undefined };
}
