import { unescapeHtml } from '../../common/html-entities';
import Handlebars from 'handlebars';

it('when Handlebars escaped a text, then unescaping gives the text back, and an escaped entity stays an entity', () => {
  // Arrange: every character Handlebars escapes, and a text that is itself an entity
  const text = `<a href="x">'O'Neil' & \`tick\` = 1</a> &lt;`;
  const escaped = Handlebars.escapeExpression(text);

  // Act / Assert
  expect(escaped).not.toContain('<a');
  expect(unescapeHtml(escaped)).toBe(text);
});
