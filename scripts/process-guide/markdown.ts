/**
 * Markdown text helpers: inline code, table cells, and paragraphs rejoined from YAML and comment
 * lines without a space between two Chinese characters.
 */

/** Chinese characters and punctuation (—“”…), between which a line break is no space. */
const CJK = /[\u2014\u2018-\u201d\u2026\u3000-\u9fff\uff00-\uffef]/;

/** YAML folds `>-` lines with a space; between two Chinese characters it is none. */
export function unfold(text: string): string {
  return text
    .trim()
    .replace(/(\S) (?=\S)/g, (m, before: string, offset: number) =>
      CJK.test(before) && CJK.test(text.trim()[offset + 2] ?? '') ? before : m,
    );
}

/** Joins wrapped lines into a paragraph: a space only between two non-CJK characters. */
export function joinLines(lines: readonly string[]): string {
  return lines
    .filter((l) => l.length > 0)
    .reduce((text, line) => {
      if (text.length === 0) return line;
      const glue = CJK.test(text.at(-1)!) && CJK.test(line[0]!) ? '' : ' ';
      return text + glue + line;
    }, '');
}

export const code = (s: string | number): string => {
  const text = String(s);
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
};
export const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
