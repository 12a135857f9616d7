/**
 * The BPE merges that can take part in tokenizing one given text. BPE splits each pre-tokenized word into characters
 * and applies merges in rank order; every token it forms is a substring of the word, and every word is a substring of
 * the (normalized, byte-level mapped) text. A merge whose result occurs in none of the text's forms can never apply,
 * so dropping it, with the order of the rest kept, tokenizes that text exactly as the full list does. Likewise a
 * vocabulary entry that occurs in none of them can never be produced or looked up (ids are kept as they are). Building
 * the reference tokenizer from a few thousand entries instead of a Llama 3 vocabulary's 128,000 tokens and 280,000
 * merges takes milliseconds instead of most of a second (the pre-tokenizer check tokenizes one short text).
 */

/** Merges longer than this are checked by scanning the texts instead of looking them up among the substrings. */
const INDEXED_LENGTH = 24;

let byteLevelTable: readonly string[] | undefined;

/** GPT-2's `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 onwards. */
function byteLevelCharacters(): readonly string[] {
  if (byteLevelTable !== undefined) return byteLevelTable;
  const table = new Array<string>(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte += 1) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    table[byte] = String.fromCodePoint(printable ? byte : next++);
  }
  byteLevelTable = table;
  return table;
}

/** `text` as a ByteLevel pre-tokenizer sees it: each UTF-8 byte as its `bytes_to_unicode` character. */
export function byteLevelText(text: string): string {
  const table = byteLevelCharacters();
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) out += table[byte] ?? "";
  return out;
}

/** The forms of `text` a tokenizer's words can come from: raw and Unicode-normalized, byte-level mapped or not, "▁" for spaces. */
export function textForms(text: string): string[] {
  const forms = new Set<string>();
  for (const normalized of [text, text.normalize("NFC"), text.normalize("NFKC"), text.normalize("NFD"), text.normalize("NFKD")]) {
    for (const form of [normalized, normalized.replaceAll(" ", "\u2581")]) {
      forms.add(form);
      forms.add(byteLevelText(form));
    }
  }
  return [...forms];
}

/** Answers "does this piece occur in one of the texts?" quickly for the hundreds of thousands of pieces of a vocabulary. */
export class TextPieceIndex {
  private readonly substrings = new Set<string>();
  /** Every pair of adjacent UTF-16 units in the texts, as one number: a cheap first test that rejects most pieces. */
  private readonly adjacentPairs = new Set<number>();
  private readonly joinedTexts: string;

  constructor(texts: readonly string[]) {
    for (const text of texts) {
      for (let start = 0; start < text.length; start += 1) {
        if (start + 1 < text.length) this.adjacentPairs.add(pairKey(text.charCodeAt(start), text.charCodeAt(start + 1)));
        for (let end = start + 1; end <= Math.min(text.length, start + INDEXED_LENGTH); end += 1) this.substrings.add(text.slice(start, end));
      }
    }
    this.joinedTexts = texts.join("\u0000");
  }

  /** Whether `piece` occurs in one of the texts. */
  contains(piece: string): boolean {
    if (piece.length >= 2 && !this.adjacentPairs.has(pairKey(piece.charCodeAt(0), piece.charCodeAt(1)))) return false;
    return piece.length <= INDEXED_LENGTH ? this.substrings.has(piece) : this.joinedTexts.includes(piece);
  }

  /** Whether `left + right` occurs in one of the texts (without building the string when the seam cannot occur). */
  containsJoined(left: string, right: string): boolean {
    if (left.length === 0 || right.length === 0) return this.contains(left + right);
    if (!this.adjacentPairs.has(pairKey(left.charCodeAt(left.length - 1), right.charCodeAt(0)))) return false;
    return this.contains(left + right);
  }
}

function pairKey(first: number, second: number): number {
  return first * 0x10000 + second;
}

/** The indices, in order, of the merges whose joined result occurs in the texts (see the module comment for why that is exact). */
export function mergeIndicesWithin(merges: readonly (readonly [string, string])[], index: TextPieceIndex): number[] {
  const kept: number[] = [];
  merges.forEach(([left, right], position) => {
    if (index.containsJoined(left, right)) kept.push(position);
  });
  return kept;
}
