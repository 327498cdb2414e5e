/**
 * How wide text will be drawn in the console's SVG (charts, process diagrams), estimated without
 * a font: a character Unicode gives East Asian Width "Wide" or "Fullwidth" (UAX #11: CJK
 * ideographs, kana, hangul, full-width forms and punctuation, emoji) is one em wide, any other
 * about 0.58 em. Some punctuation Chinese text uses is "Ambiguous" in Unicode but encoded
 * full-width in GB 2312 and drawn an em wide by Chinese fonts (— ‘ ’ “ ” …); it counts as wide,
 * so a label cut to fit with "…" never overruns.
 */

/** Code point ranges drawn one em wide, in ascending order. */
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], // Hangul Jamo leading consonants
  [0x2014, 0x2014], // — em dash (GB 2312 full-width)
  [0x2018, 0x2019], // ‘ ’ (GB 2312 full-width)
  [0x201c, 0x201d], // “ ” (GB 2312 full-width)
  [0x2026, 0x2026], // … (GB 2312 full-width)
  [0x2e80, 0x303e], // CJK and Kangxi radicals, ideographic description, CJK symbols and punctuation
  [0x3041, 0x33ff], // kana, bopomofo, hangul compatibility jamo, enclosed CJK, CJK compatibility
  [0x3400, 0x4dbf], // CJK Extension A
  [0x4e00, 0x9fff], // CJK Unified Ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo Extended-A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK Compatibility Ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6b], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // full-width ASCII and punctuation
  [0xffe0, 0xffe6], // full-width signs
  [0x1f300, 0x1f64f], // pictographs, emoticons
  [0x1f900, 0x1f9ff], // supplemental symbols and pictographs
  [0x20000, 0x3fffd], // CJK Extensions B and beyond
];

/** The width of a character other than a wide one, in ems: about a Latin letter's. */
const NARROW_EM = 0.58;

export function isWide(codePoint: number): boolean {
  for (const [from, to] of WIDE_RANGES) {
    if (codePoint < from) return false;
    if (codePoint <= to) return true;
  }
  return false;
}

/** An estimate of the width of `text` in pixels at `fontSize`. */
export function textWidth(text: string, fontSize: number): number {
  let width = 0;
  for (const ch of text) width += isWide(ch.codePointAt(0)!) ? fontSize : fontSize * NARROW_EM;
  return width;
}

/** The text cut to fit `width` pixels at `fontSize`, with an ellipsis when cut. */
export function fitText(text: string, width: number, fontSize: number): string {
  if (textWidth(text, fontSize) <= width) return text;
  let out = '';
  for (const ch of text) {
    if (textWidth(`${out}${ch}…`, fontSize) > width) break;
    out += ch;
  }
  return `${out}…`;
}
