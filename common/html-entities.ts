/**
 * The text behind HTML that Handlebars escaped (`&amp; &lt; &gt; &quot; &#x27; &#x60; &#x3D;`):
 * what a browser shows, and what a plain-text mail part must say. `&amp;` goes last, so an
 * escaped entity (`&amp;lt;`) stays the text it was (`&lt;`).
 */
export function unescapeHtml(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#x3D;/g, '=')
    .replace(/&#x60;/g, '`')
    .replace(/&amp;/g, '&');
}
