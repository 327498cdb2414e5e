import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EXPRESSION_LIMITS,
  EvaluationError,
  ExpressionError,
  checkExpression,
  compileExpression,
  evaluateCondition,
  type ExpressionScope,
} from '../../lang/expression';

const ROOTS: ReadonlySet<string> = new Set(['data', 'form', 'outcome', 'steps', 'case']);

const SCOPE: ExpressionScope = {
  data: {
    category: 'repair',
    description: 'The stairwell light is broken',
    amount: 1200,
    tags: ['urgent', 'night'],
    empty: '',
    nothing: [],
    blank: {},
    nested: { deeper: { value: 7 } },
    'first-name': 'Li',
    类别: '维修',
  },
  form: { urgent: true, rating: 4, note: 'ok' },
  outcome: 'done',
  steps: { review: { outcome: 'approved' } },
  rating: { score: 2 },
};

function run(source: string, scope: ExpressionScope = SCOPE): unknown {
  return compileExpression(source).evaluate(scope);
}

function compileError(source: string, roots?: ReadonlySet<string>): ExpressionError {
  try {
    compileExpression(source, roots === undefined ? {} : { roots });
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error(`expected "${source}" not to compile`);
}

function evaluationError(source: string, scope: ExpressionScope = SCOPE): EvaluationError {
  const compiled = compileExpression(source);
  try {
    compiled.evaluate(scope);
  } catch (error) {
    if (error instanceof EvaluationError) return error;
    throw error;
  }
  throw new Error(`expected "${source}" to fail at evaluation`);
}

/** A string literal for `value` in the expression language, escaping quote and backslash. */
function quote(value: string, mark: "'" | '"'): string {
  return (
    mark + value.replace(/[\\'"]/g, (ch) => (ch === mark || ch === '\\' ? `\\${ch}` : ch)) + mark
  );
}

describe('literals', () => {
  it.each<[string, unknown]>([
    ['42', 42],
    ['3.25', 3.25],
    ['0.5', 0.5],
    ['007', 7],
    ['-5', -5],
    ["'repair'", 'repair'],
    ['"repair"', 'repair'],
    ["'it\\'s'", "it's"],
    ['"say \\"hi\\""', 'say "hi"'],
    ["'back\\\\slash'", 'back\\slash'],
    ['"it\'s"', "it's"],
    ['\'say "hi"\'', 'say "hi"'],
    ["''", ''],
    ["'报修 ✓'", '报修 ✓'],
    ['true', true],
    ['false', false],
    ['null', null],
    ['[]', []],
    ["[1, 'a', null, [true, -2]]", [1, 'a', null, [true, -2]]],
    ['[data.category, 1 + 1]', ['repair', 2]],
  ])('when the source is %s, then it evaluates to %j', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });

  it('when a string spans lines, then the line break is part of the value', () => {
    expect(run("'a\nb'")).toBe('a\nb');
  });

  it('when names use other scripts, then they read like any other name', () => {
    expect(run("data.类别 == '维修'")).toBe(true);
  });
});

describe('precedence and associativity', () => {
  it.each<[string, unknown]>([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['8 / 4 / 2', 1],
    ['7 % 4 * 2', 6],
    ['-2 * 3', -6],
    ['- (2 + 3)', -5],
    ['2 - -3', 5],
    ['1 + 2 < 4', true],
    ['1 < 2 == true', true],
    ['1 == 1 && 2 == 3', false],
    ['true || false && false', true],
    ['(true || false) && false', false],
    ['!false && false', false],
    ['!(false && false)', true],
    ['not false and not false', true],
    ['false or true and true', true],
    ["'a' in ['a'] && 'b' in ['b']", true],
    ['true ? 1 : 0 + 5', 1],
    ['false ? 1 : 0 + 5', 5],
    ["false ? 'a' : true ? 'b' : 'c'", 'b'],
    ["true ? false ? 'a' : 'b' : 'c'", 'b'],
    ['1 < 2 ? 3 : 4', 3],
    ['false || true ? 1 : 2', 1],
  ])('when the source is %s, then it evaluates to %j', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });
});

describe('equality', () => {
  it.each<[string, boolean]>([
    ["data.category == 'repair'", true],
    ["data.category != 'repair'", false],
    ["'1' == 1", false],
    ['1 == 1.0', true],
    ['true == true', true],
    ['false != true', true],
    ['null == null', true],
    ['data.missing == null', true],
    ['data.missing != null', false],
    ['data.tags == null', false],
    ['data.tags != null', true],
    ['data.blank == null', false],
    ["null == ''", false],
    ['null == false', false],
    ['null == 0', false],
  ])('when the source is %s, then it evaluates to %s', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it.each(["data.tags == ['urgent', 'night']", 'data.blank != 1', '[] == []'])(
    'when %s compares a list or object with a non-null value, then it throws an EvaluationError',
    (source) => {
      expect(evaluationError(source).message).toMatch(
        /compares strings, numbers, booleans and null, got (a list|an object)/,
      );
    },
  );
});

describe('ordering comparisons', () => {
  it.each<[string, boolean]>([
    ['rating.score <= 2', true],
    ['rating.score < 2', false],
    ['rating.score >= 2', true],
    ['rating.score > 2', false],
    ['data.amount > 1000', true],
    ["'apple' < 'banana'", true],
    ["'B' < 'a'", true],
    ["'abc' >= 'abc'", true],
    ["'abd' > 'abc'", true],
  ])('when the source is %s, then it evaluates to %s', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it.each([
    ["rating.score < '3'", "'<' compares two numbers or two strings, got a number and a string"],
    ['data.missing > 1', "'>' compares two numbers or two strings, got null and a number"],
    ['true >= false', "'>=' compares two numbers or two strings, got a boolean and a boolean"],
    ['data.tags <= 1', "'<=' compares two numbers or two strings, got a list and a number"],
  ])('when %s mixes types, then it throws an EvaluationError naming them', (source, reason) => {
    // Act
    const error = evaluationError(source);

    // Assert
    expect(error.message).toBe(`${reason} at ${source.search(/[<>]/)} in "${source}"`);
    expect(error.source).toBe(source);
    expect(error.position).toBe(source.search(/[<>]/));
  });
});

describe('arithmetic', () => {
  it.each<[string, unknown]>([
    ['form.rating + 1', 5],
    ['form.rating - 6', -2],
    ['form.rating * 2.5', 10],
    ['form.rating / 8', 0.5],
    ['form.rating % 3', 1],
    ["'ab' + 'cd'", 'abcd'],
    ["data.category + '-' + outcome", 'repair-done'],
    ['-form.rating', -4],
  ])('when the source is %s, then it evaluates to %j', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });

  it.each([
    ["1 + '1'", "'+' needs two numbers or two strings, got a number and a string"],
    ["'a' - 'b'", "'-' needs two numbers, got a string and a string"],
    ['data.missing * 2', "'*' needs two numbers, got null and a number"],
    ['true + 1', "'+' needs two numbers or two strings, got a boolean and a number"],
    ['1 / 0', 'division by zero'],
    ['5 % (2 - 2)', 'division by zero'],
    ['-outcome', "'-' needs a number, got a string"],
  ])('when the source is %s, then it throws "%s"', (source, reason) => {
    expect(evaluationError(source).message).toContain(reason);
  });

  it('when a result overflows, then it throws instead of yielding Infinity', () => {
    // Arrange
    const scope = { n: Number.MAX_VALUE };

    // Act
    const error = evaluationError('n * n', scope);

    // Assert
    expect(error.message).toContain("'*' did not give a finite number");
  });

  it('when a number literal is too large, then it does not compile', () => {
    expect(compileError('9'.repeat(400)).reason).toBe('number is too large');
  });
});

describe('in and not in', () => {
  it.each<[string, boolean]>([
    ["outcome in ['done', 'partly']", true],
    ["outcome in ['rejected']", false],
    ["outcome not in ['rejected']", true],
    ["'urgent' in data.tags", true],
    ["'day' in data.tags", false],
    ['null in [1, null]', true],
    ['1 in [1, 2]', true],
    ["'1' in [1, 2]", false],
    ["'light' in data.description", true],
    ["'Light' in data.description", false],
    ["'' in 'abc'", true],
    ["'x' in data.missing", false],
    ["'x' not in data.missing", true],
  ])('when the source is %s, then it evaluates to %s', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it.each([
    ['1 in data.description', "'in' looks for a string in a string, got a number"],
    ["'a' in data.amount", "'in' looks in a list, a string or null, got a number"],
    ["'a' not in data.blank", "'not in' looks in a list, a string or null, got an object"],
    ["['a'] in [['a']]", "'in' compares strings, numbers, booleans and null, got a list"],
  ])('when the source is %s, then it throws "%s"', (source, reason) => {
    expect(evaluationError(source).message).toContain(reason);
  });
});

describe('logic', () => {
  it.each<[string, boolean]>([
    ["data.category == 'repair' && form.urgent", true],
    ['true && false', false],
    ['true and true', true],
    ['false || true', true],
    ['false or false', false],
    ['!true', false],
    ['not true', false],
    ['!!true', true],
    ['form.missing && true', false],
    ['form.missing || true', true],
    ['!form.missing', true],
    ['not (outcome in [])', true],
  ])('when the source is %s, then it evaluates to %s', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it.each([
    ['outcome && true', "'&&' needs true, false or null, got a string"],
    ['false || 1', "'||' needs true, false or null, got a number"],
    ['!data.tags', "'!' needs true, false or null, got a list"],
    ["data.blank ? 'a' : 'b'", "'?' needs true, false or null, got an object"],
  ])('when %s uses a non-boolean operand, then it throws "%s"', (source, reason) => {
    expect(evaluationError(source).message).toContain(reason);
  });

  it.each<[string, unknown]>([
    ['false && len(null) > 0', false],
    ['false and len(null) > 0', false],
    ['true || len(null) > 0', true],
    ['true or 1 / 0 == 1', true],
    ['true ? 1 : len(null)', 1],
    ['false ? len(null) : 2', 2],
  ])(
    'when %s can decide without its other operand, then that operand is not evaluated',
    (source, expected) => {
      expect(run(source)).toBe(expected);
    },
  );

  it('when the left operand does not decide, then the right one is evaluated', () => {
    expect(evaluationError('true && len(null) > 0').message).toContain(
      'len() needs a string or a list, got null',
    );
  });
});

describe('member access', () => {
  it.each<[string, unknown]>([
    ['data.category', 'repair'],
    ['data.nested.deeper.value', 7],
    ["data['first-name']", 'Li'],
    ["data['nested']['deeper'].value", 7],
    ['steps.review.outcome', 'approved'],
    ['data.optionalField', null],
    ['steps.approval.outcome', null],
    ['data.missing.deeper.still', null],
    ['unknownRoot.anything', null],
    ['data.toString', null],
    ['data.hasOwnProperty', null],
    ['data.valueOf', null],
  ])('when reading %s, then the value is %j', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });

  it('when a property holds undefined, then it reads as null', () => {
    expect(run('data.x == null', { data: { x: undefined } })).toBe(true);
  });

  it('when the object has no prototype, then its own properties are readable', () => {
    // Arrange
    const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    data.kind = 'bare';

    // Act
    const value = run('data.kind', { data });

    // Assert
    expect(value).toBe('bare');
  });

  it('when a property is inherited, then it is not read through the prototype', () => {
    // Arrange
    const data: unknown = Object.create({ secret: 'inherited' });

    // Act
    const error = evaluationError('data.secret', { data });

    // Assert
    expect(error.message).toContain("cannot read property 'secret' of an unsupported value");
  });

  it('when the value is a class instance, then reading a property is an error', () => {
    // Arrange
    class Account {
      balance = 10;
    }

    // Act
    const error = evaluationError('data.balance', { data: new Account() });

    // Assert
    expect(error.message).toContain("cannot read property 'balance' of an unsupported value");
  });

  it.each([
    ['data.category.length', "cannot read property 'length' of a string"],
    ['data.tags.length', "cannot read property 'length' of a list"],
    ['data.amount.toFixed', "cannot read property 'toFixed' of a number"],
  ])('when reading %s, then it throws "%s"', (source, reason) => {
    expect(evaluationError(source).message).toContain(reason);
  });

  it('when a property is a getter, then the getter never runs', () => {
    // Arrange
    const getter = jest.fn(() => 'computed');
    const data = {};
    Object.defineProperty(data, 'computed', { get: getter, enumerable: true });

    // Act
    const error = evaluationError('data.computed', { data });

    // Assert
    expect(getter).not.toHaveBeenCalled();
    expect(error.message).toContain("property 'computed' is an accessor, not data");
  });

  it('when evaluating, then the scope is neither changed nor needs to be mutable', () => {
    // Arrange
    const scope = Object.freeze({ data: Object.freeze({ items: Object.freeze(['a']) }) });
    const before = JSON.stringify(scope);

    // Act
    const value = run("'a' in data.items && len(data.items) == 1", scope);

    // Assert
    expect(value).toBe(true);
    expect(JSON.stringify(scope)).toBe(before);
  });
});

describe('prototype safety', () => {
  it.each([
    ['__proto__', 0],
    ['constructor', 0],
    ['prototype', 0],
    ['data.__proto__', 5],
    ['data.constructor.name', 5],
    ['data.x.prototype', 7],
    ["data['__proto__']", 5],
    ["data['constructor']", 5],
    ['constructor(1)', 0],
  ])('when the source is %s, then compiling rejects the name at %d', (source, position) => {
    // Act
    const error = compileError(source);

    // Assert
    expect(error.reason).toMatch(/^name "(__proto__|constructor|prototype)" is not allowed$/);
    expect(error.position).toBe(position);
  });

  it.each(['toString(data)', 'hasOwnProperty(data)', 'valueOf(1)', 'eval(1)', 'Function(1)'])(
    'when the source calls %s, then it is an unknown function',
    (source) => {
      expect(compileError(source).reason).toMatch(/^unknown function "\w+"/);
    },
  );

  it.each(['Math.random()', 'data.category.toUpperCase()', "data['x']()"])(
    'when the source calls a method (%s), then it does not compile',
    (source) => {
      expect(compileError(source).reason).toBe("unexpected '('");
    },
  );
});

describe('names and functions checked at compile time', () => {
  it('when a root is unknown, then the error names it, its position and the known roots', () => {
    // Act
    const error = compileError("data.category == 'x' && dta.y", ROOTS);

    // Assert
    expect(error.message).toBe(
      'unknown name "dta" (known: case, data, form, outcome, steps) at 24',
    );
    expect(error.position).toBe(24);
    expect(error.reason).toBe('unknown name "dta" (known: case, data, form, outcome, steps)');
  });

  it('when no roots are allowed, then the message says so', () => {
    expect(compileError('data', new Set()).reason).toBe('unknown name "data" (known: none)');
  });

  it('when roots are given, then names inside function arguments and lists are checked too', () => {
    expect(compileError("len(data.x) > 0 && 'a' in [formz.y]", ROOTS).position).toBe(27);
  });

  it('when a function is unknown, then the error names it and lists the known ones', () => {
    // Act
    const error = compileError('data.x && foo(1)');

    // Assert
    expect(error.reason).toBe(
      'unknown function "foo" (known: len, contains, startsWith, endsWith, isEmpty, lower, upper, number, date, year, addDays, addMonths)',
    );
    expect(error.position).toBe(10);
  });

  it.each([
    ['len()', 'len() takes 1 argument, got 0'],
    ["len('a', 'b')", 'len() takes 1 argument, got 2'],
    ["contains('a')", 'contains() takes 2 arguments, got 1'],
  ])('when %s has the wrong number of arguments, then it does not compile', (source, reason) => {
    expect(compileError(source).reason).toBe(reason);
  });

  it('when a function name is used without a call, then it is an ordinary name', () => {
    expect(run('len', { len: 3 })).toBe(3);
  });

  it('when a keyword follows a dot, then it is a property name', () => {
    expect(run('data.in + data.not', { data: { in: 1, not: 2 } })).toBe(3);
  });
});

describe('syntax errors', () => {
  it.each<[string, string, number]>([
    ['data.x && )', "unexpected ')'", 10],
    ['', 'expression is empty', 0],
    ['   ', 'expression is empty', 0],
    ['1 2', 'unexpected number 2', 2],
    ["data 'x'", 'unexpected string "x"', 5],
    ['(1 + 2', "expected ')', found end of input", 6],
    ['[1, 2', "expected ',' or ']', found end of input", 5],
    ['len(1 2)', "expected ',' or ')', found number 2", 6],
    ["'abc", 'unterminated string', 0],
    ["x == 'abc\\", 'unterminated string', 5],
    ["'a\\nb'", "unknown escape '\\n' (only \\', \\\" and \\\\ are escapes)", 2],
    ['data.x = 1', "unexpected '=' (use '==')", 7],
    ['a & b', "unexpected '&' (use '&&')", 2],
    ['a | b', "unexpected '|' (use '||')", 2],
    ['a === b', "unexpected '=' (use '==')", 4],
    ['#x', 'unexpected character "#"', 0],
    ['1.', "expected a digit after '.' in a number", 2],
    ['1.x', "expected a digit after '.' in a number", 2],
    ['1.5.2', 'unexpected "." after a number', 3],
    ['12abc', 'unexpected "a" after a number', 2],
    ['data.', "expected a property name after '.', found end of input", 5],
    ['data.1', "expected a property name after '.', found number 1", 5],
    ['data[1]', "expected a quoted property name after '[', found number 1", 5],
    ["data['x'", "expected ']', found end of input", 8],
    ['a and', 'unexpected end of input', 5],
    ['and a', 'unexpected "and"', 0],
    ['a in', 'unexpected end of input', 4],
    ['a not b', 'unexpected "not"', 2],
    ['true ? 1', "expected ':', found end of input", 8],
    ['1 < 2 < 3', 'comparisons cannot be chained, add parentheses', 6],
    ['a == b != c', 'comparisons cannot be chained, add parentheses', 7],
    ["a in b in ['x']", 'comparisons cannot be chained, add parentheses', 7],
    ['!a == b', "ambiguous negation before '==': write !(a == b) or (!a) == b", 3],
    ['not a in b', "ambiguous negation before 'in': write !(a in b) or (!a) in b", 6],
  ])('when the source is %j, then it reports "%s" at %d', (source, reason, position) => {
    // Act
    const error = compileError(source);

    // Assert
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error.name).toBe('ExpressionError');
    expect(error.reason).toBe(reason);
    expect(error.position).toBe(position);
    expect(error.message).toBe(`${reason} at ${position}`);
    expect(error.source).toBe(source);
  });

  it.each<[string, unknown]>([
    ['(!form.urgent) == false', true],
    ['!(outcome == "done")', false],
    ['a == !b', true],
  ])('when a negation is parenthesised (%s), then it compiles', (source, expected) => {
    expect(run(source, { ...SCOPE, a: false, b: true })).toBe(expected);
  });

  it('when the source is not a string, then it is an ExpressionError', () => {
    // Arrange: YAML turns `when: true` into a boolean, which may slip past a loose schema.
    const source = true as unknown as string;

    // Act
    const error = compileError(source);

    // Assert
    expect(error.reason).toBe('an expression must be a string');
  });
});

describe('limits', () => {
  const { maxSourceLength, maxNestingDepth } = EXPRESSION_LIMITS;

  it('when the limits are read, then they are 1000 characters and 32 levels', () => {
    expect(EXPRESSION_LIMITS).toEqual({ maxSourceLength: 1000, maxNestingDepth: 32 });
  });

  it('when the source is exactly at the length limit, then it compiles', () => {
    // Arrange
    const source = `'${'x'.repeat(maxSourceLength - 2)}'`;

    // Act
    const value = run(source);

    // Assert
    expect(value).toBe('x'.repeat(maxSourceLength - 2));
  });

  it('when the source is over the length limit, then it is rejected before parsing', () => {
    // Act
    const error = compileError(`'${'x'.repeat(maxSourceLength - 1)}'`);

    // Assert
    expect(error.reason).toBe('expression is 1001 characters long, the limit is 1000');
    expect(error.position).toBe(1000);
  });

  const nestings: [string, (depth: number) => string][] = [
    ['parentheses', (n) => `${'('.repeat(n)}1${')'.repeat(n)}`],
    ['lists', (n) => `${'['.repeat(n)}1${']'.repeat(n)}`],
    ['negations', (n) => `${'!'.repeat(n)}true`],
    ['minus signs', (n) => `${'- '.repeat(n)}1`],
    ['function calls', (n) => `${'lower('.repeat(n)}'A'${')'.repeat(n)}`],
    ['ternaries', (n) => `${'false ? 0 : '.repeat(n)}1`],
  ];

  it.each(nestings)(
    'when %s nest to the limit, then the expression compiles and evaluates',
    (_kind, build) => {
      // Arrange
      const source = build(maxNestingDepth);

      // Act
      const act = () => run(source);

      // Assert
      expect(act).not.toThrow();
    },
  );

  it.each(nestings)('when %s nest one level deeper, then compiling fails', (_kind, build) => {
    // Act
    const error = compileError(build(maxNestingDepth + 1));

    // Assert
    expect(error.reason).toBe('expression nests deeper than 32 levels');
  });

  it('when the nesting limit is exceeded, then the error points at the opener too many', () => {
    expect(compileError(`${'('.repeat(40)}1${')'.repeat(40)}`).position).toBe(32);
  });

  it.each([
    ['parentheses', '('.repeat(1000)],
    ['brackets', '['.repeat(1000)],
    ['negations', '!'.repeat(1000)],
    ['minus signs', '-'.repeat(1000)],
    ['calls', 'len('.repeat(250)],
    ['ternaries', 'a?'.repeat(500)],
  ])('when a hostile source is all %s, then it fails with an ExpressionError', (_kind, source) => {
    expect(() => compileExpression(source)).toThrow(ExpressionError);
  });

  it('when a flat chain fills the length limit, then it compiles and evaluates', () => {
    // Arrange: chains of one precedence level are loops, not nesting.
    const sum = `${'1+'.repeat(499)}1`;
    const path = `data${'.a'.repeat(498)}`;

    // Act
    const total = run(sum);
    const deep = run(path);

    // Assert
    expect(total).toBe(500);
    expect(deep).toBeNull();
  });
});

describe('functions', () => {
  it.each<[string, unknown]>([
    ['len(data.description) > 10', true],
    ["len('')", 0],
    ["len('报修')", 2],
    ["len('😀')", 1],
    ['len(data.tags)', 2],
    ['len([])', 0],
    ["contains(data.tags, 'night')", true],
    ["contains(data.tags, 'day')", false],
    ["contains(data.description, 'light')", true],
    ["contains(data.missing, 'x')", false],
    ["startsWith(data.description, 'The')", true],
    ["startsWith(data.description, 'the')", false],
    ["startsWith(data.missing, 'x')", false],
    ["endsWith(data.description, 'broken')", true],
    ["endsWith(data.missing, 'x')", false],
    ['isEmpty(data.missing)', true],
    ['isEmpty(data.empty)', true],
    ['isEmpty(data.nothing)', true],
    ['isEmpty(data.blank)', true],
    ['isEmpty(data.category)', false],
    ['isEmpty(data.tags)', false],
    ['isEmpty(data.nested)', false],
    ["lower('ÄBC')", 'äbc'],
    ['upper(data.category)', 'REPAIR'],
    ['number(3)', 3],
    ["number('12')", 12],
    ["number(' -0.5 ')", -0.5],
    ["number('007')", 7],
    ["number(form.note == 'ok' ? '1' : '0') + 1", 2],
  ])('when the source is %s, then it evaluates to %j', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });

  it.each([
    ['len(null)', 'len() needs a string or a list, got null'],
    ['len(5)', 'len() needs a string or a list, got a number'],
    ['len(data.blank)', 'len() needs a string or a list, got an object'],
    ["startsWith(5, 'a')", 'startsWith() needs a string or null, got a number'],
    ["endsWith(data.tags, 'a')", 'endsWith() needs a string or null, got a list'],
    ["startsWith('abc', null)", 'startsWith() needs a string to look for, got null'],
    ['contains(5, 5)', "'contains' looks in a list, a string or null, got a number"],
    ['isEmpty(0)', 'isEmpty() needs a string, a list, an object or null, got a number'],
    ['isEmpty(false)', 'isEmpty() needs a string, a list, an object or null, got a boolean'],
    ['lower(null)', 'lower() needs a string, got null'],
    ['upper(1)', 'upper() needs a string, got a number'],
    ["number('')", 'number() needs a decimal number such as 12 or -0.5'],
    ["number('0x10')", 'number() needs a decimal number such as 12 or -0.5'],
    ["number('1e3')", 'number() needs a decimal number such as 12 or -0.5'],
    ['number(true)', 'number() needs a number or a string, got a boolean'],
    ['number(null)', 'number() needs a number or a string, got null'],
  ])('when the source is %s, then it throws "%s"', (source, reason) => {
    expect(evaluationError(source).message).toContain(reason);
  });

  it('when a function fails, then the error points at the function name', () => {
    // Act
    const error = evaluationError('true && len(data.amount) > 1');

    // Assert
    expect(error.position).toBe(8);
    expect(error.message).toBe(
      'len() needs a string or a list, got a number at 8 in "true && len(data.amount) > 1"',
    );
  });
});

describe('year()', () => {
  it.each<[string, unknown]>([
    ["year('2026-05-01')", 2026],
    ["year('2024-02-29')", 2024],
    // An instant counts in Beijing time: late on 31 December UTC is already 1 January here
    ["year('2026-12-31T16:00:00Z')", 2027],
    ["year('2026-12-31T15:59:59Z')", 2026],
    ["year('2027-01-01T00:30:00+08:00')", 2027],
    ["year('2027-01-01T00:59:00+09:00')", 2026],
    ['year(data.missing)', null],
    ['year(null)', null],
    ["year('2026-05-01') - 2020", 6],
    ["year(addMonths('2026-11-30', 2))", 2027],
  ])('when the source is %s, then it evaluates to %j', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });

  it.each([
    ["year('2026-02-30')", 'year() needs a date (2026-05-01) or an instant with its offset'],
    [
      "year('2026-05-01T09:00:00')",
      'year() needs a date (2026-05-01) or an instant with its offset',
    ],
    ['year(2026)', 'got a number'],
    ['year(data.tags)', 'got a list'],
  ])('when the source is %s, then it throws "%s"', (source, reason) => {
    expect(evaluationError(source).message).toContain(reason);
  });

  it('when year() is called with no argument or two, then it does not compile', () => {
    expect(checkExpression('year()', ROOTS)).toContain('argument');
    expect(checkExpression("year('2026-01-01', 1)", ROOTS)).toContain('argument');
  });
});

describe('paths', () => {
  it.each<[string, string[]]>([
    ["data.category == 'repair' && form.urgent", ['data.category', 'form.urgent']],
    ["outcome in ['done', 'partly']", ['outcome']],
    ["steps.review.outcome != 'rejected'", ['steps.review.outcome']],
    ['len(data.description) > 10', ['data.description']],
    ["data['first-name'] == data.category", ['data.first-name', 'data.category']],
    ['data.a == 1 || data.a == 2 || data.b', ['data.a', 'data.b']],
    ['(data).x', ['data.x']],
    ['isEmpty([form.a, 1])', ['form.a']],
    ['1 + 2', []],
    ["true ? case.id : data['x'].y", ['case.id', 'data.x.y']],
  ])('when the source is %s, then the paths are %j', (source, expected) => {
    expect(compileExpression(source).paths).toEqual(expected);
  });
});

describe('compiled expressions', () => {
  it('when compiled, then the source is kept and evaluation can be repeated', () => {
    // Arrange
    const compiled = compileExpression('form.rating >= 3', { roots: ROOTS });

    // Act
    const high = compiled.evaluate({ form: { rating: 5 } });
    const low = compiled.evaluate({ form: { rating: 1 } });

    // Assert
    expect(compiled.source).toBe('form.rating >= 3');
    expect([high, low]).toEqual([true, false]);
  });

  it('when a list literal holds only constants, then each evaluation gives an equal list', () => {
    // Arrange
    const compiled = compileExpression("['a', 1]");

    // Act
    const first = compiled.evaluate({});
    const second = compiled.evaluate({});

    // Assert
    expect(first).toEqual(['a', 1]);
    expect(second).toEqual(first);
  });
});

describe('evaluateCondition', () => {
  it.each<[string, boolean]>([
    ["data.category == 'repair' && form.urgent", true],
    ["outcome in ['done', 'partly']", true],
    ["steps.review.outcome != 'rejected'", true],
    ['len(data.description) > 10', true],
    ['rating.score <= 2', true],
    ['data.optionalField == null', true],
    ['isEmpty(data.optionalField)', true],
  ])('when the condition is %s, then it gives %s', (source, expected) => {
    expect(evaluateCondition(source, SCOPE)).toBe(expected);
  });

  it.each([
    ['data.category', 'a string'],
    ['data.amount', 'a number'],
    ['data.missing', 'null'],
    ['data.tags', 'a list'],
    ['data.nested', 'an object'],
  ])('when %s is not a boolean, then it throws an EvaluationError naming %s', (source, type) => {
    // Act
    const act = () => evaluateCondition(source, SCOPE);

    // Assert
    expect(act).toThrow(EvaluationError);
    expect(act).toThrow(`condition "${source}" evaluated to ${type}, expected true or false`);
  });

  it('when the condition does not compile, then it throws an ExpressionError', () => {
    expect(() => evaluateCondition('data.x ==', SCOPE)).toThrow(ExpressionError);
  });

  it('when a condition meets a type error, then the EvaluationError names the source', () => {
    // Act
    const act = () => evaluateCondition('data.category > 1', SCOPE);

    // Assert
    expect(act).toThrow(
      `'>' compares two numbers or two strings, got a string and a number at 14 in "data.category > 1"`,
    );
  });

  it('when more conditions are used than the cache holds, then all still evaluate correctly', () => {
    // Arrange
    const sources = Array.from({ length: 1200 }, (_, i) => `data.amount > ${i}`);

    // Act
    const first = sources.map((source) => evaluateCondition(source, SCOPE));
    const again = sources.map((source) => evaluateCondition(source, SCOPE));

    // Assert
    expect(first.filter(Boolean)).toHaveLength(1200);
    expect(again).toEqual(first);
  });

  it('when the same condition is evaluated over different scopes, then each scope decides', () => {
    expect(evaluateCondition("outcome == 'done'", { outcome: 'done' })).toBe(true);
    expect(evaluateCondition("outcome == 'done'", { outcome: 'partly' })).toBe(false);
  });
});

describe('checkExpression', () => {
  it('when the expression is fine, then it returns null', () => {
    expect(checkExpression("data.category == 'repair' && form.urgent", ROOTS)).toBeNull();
  });

  it('when roots are given as a list, then they are used the same way', () => {
    expect(checkExpression('outcome', ['outcome'])).toBeNull();
    expect(checkExpression('data.x', ['outcome'])).toBe(
      'unknown name "data" (known: outcome) at 0',
    );
  });

  it.each([
    ['data.x && )', "unexpected ')' at 10"],
    ['foo(data.x)', expect.stringMatching(/^unknown function "foo" \(known: .*\) at 0$/) as string],
    ['dta.x', 'unknown name "dta" (known: case, data, form, outcome, steps) at 0'],
    ['data.constructor', 'name "constructor" is not allowed at 5'],
  ])('when the expression is %s, then it returns the message', (source, message) => {
    expect(checkExpression(source, ROOTS)).toEqual(message);
  });
});

describe('determinism and properties', () => {
  it('when a number pair is compared, then the result matches JavaScript', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.double({ noNaN: true }), (a, b) => {
        const scope = { a, b };
        expect(run('a < b', scope)).toBe(a < b);
        expect(run('a <= b', scope)).toBe(a <= b);
        expect(run('a > b', scope)).toBe(a > b);
        expect(run('a >= b', scope)).toBe(a >= b);
        expect(run('a == b', scope)).toBe(a === b);
      }),
    );
  });

  it('when integers are written as literals, then comparisons and sums match JavaScript', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (a, b) => {
        expect(run(`${a} < ${b}`)).toBe(a < b);
        expect(run(`${a} + ${b}`)).toBe(a + b);
        expect(run(`${a} - ${b}`)).toBe(a - b);
      }),
    );
  });

  it('when a decimal is written as a literal, then it reads as JavaScript reads it', () => {
    fc.assert(
      fc.property(fc.nat(), fc.stringMatching(/^\d{1,8}$/), (whole, fraction) => {
        const text = `${whole}.${fraction}`;
        expect(run(text)).toBe(Number(text));
      }),
    );
  });

  it('when strings are compared, then the result matches JavaScript', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(run('a < b', { a, b })).toBe(a < b);
        expect(run('a >= b', { a, b })).toBe(a >= b);
      }),
    );
  });

  it('when any string is written as an escaped literal, then it evaluates back to itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (value) => {
        expect(run(quote(value, "'"))).toBe(value);
        expect(run(quote(value, '"'))).toBe(value);
      }),
    );
  });

  it('when scalars are compared with ==, then the result is strict equality', () => {
    const scalar = fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(scalar, scalar, (a, b) => {
        expect(run('a == b', { a, b })).toBe(a === b);
        expect(run('a != b', { a, b })).toBe(a !== b);
      }),
    );
  });

  it('when a value is looked up with in, then it matches Array.prototype.includes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2 }), fc.array(fc.string({ maxLength: 2 })), (x, list) => {
        expect(run('x in list', { x, list })).toBe(list.includes(x));
        expect(run('x not in list', { x, list })).toBe(!list.includes(x));
      }),
    );
  });

  it('when any token soup is compiled and evaluated, then only the two error types escape and results repeat', () => {
    const piece = fc.constantFrom(
      'data',
      'form',
      '.',
      'x',
      'tags',
      '(',
      ')',
      '[',
      ']',
      ',',
      "'a'",
      '"b\\"',
      '1',
      '2.5',
      '+',
      '-',
      '*',
      '/',
      '&&',
      '||',
      '!',
      'not',
      'in',
      'and',
      '==',
      '<',
      '?',
      ':',
      'len',
      'contains',
      'null',
      'true',
      ' ',
      '__proto__',
    );
    const scope = { data: { x: 1, tags: ['a'] }, form: { x: 'a', tags: null } };
    const outcome = (source: string): unknown => {
      try {
        return { value: compileExpression(source).evaluate(scope) };
      } catch (error) {
        if (error instanceof ExpressionError || error instanceof EvaluationError) {
          return { error: error.message };
        }
        throw error;
      }
    };
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const source = pieces.join('');
        expect(outcome(source)).toEqual(outcome(source));
      }),
      { numRuns: 2000 },
    );
  });

  it('when arbitrary text is compiled, then it either compiles or throws an ExpressionError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (source) => {
        try {
          compileExpression(source);
        } catch (error) {
          expect(error).toBeInstanceOf(ExpressionError);
        }
      }),
    );
  });
});

describe('sandbox safety of the module source', () => {
  const folder = join(__dirname, '../../lang/expression');
  const files = readdirSync(folder)
    .filter((name) => name.endsWith('.ts'))
    .sort();
  const sourceOf = (file: string): string => readFileSync(join(folder, file), 'utf8');
  const forbidden: ReadonlyArray<readonly [string, RegExp]> = [
    ['a require call', /\brequire\(/],
    ['a dynamic import', /\bimport\s*\(/],
    ['eval', /\beval\(/],
    ['the Function constructor', /\bnew Function\b|\bFunction\(/],
    ['a RegExp built at run time', /\bnew RegExp\b|\bRegExp\(/],
    ['the clock', /\bDate\.now\b|\bnew Date\b|\bperformance\./],
    ['randomness', /\bMath\.random\b|\bcrypto\./],
  ];

  it('when the folder is listed, then it holds the module with its index', () => {
    expect(files).toContain('index.ts');
  });

  it.each(files)('when %s is read, then it imports only files of its own folder', (file) => {
    // Arrange: its siblings, and the one constant file of lang/ it shares (the Beijing offset).
    const source = sourceOf(file);
    const siblings = new Set([
      ...files.map((name) => `./${name.replace(/\.ts$/, '')}`),
      '../beijing',
    ]);

    // Act: the module names of every import and re-export, with or without bindings.
    const specifiers = [
      ...source.matchAll(/\bfrom\s+(['"])([^'"]*)\1/g),
      ...source.matchAll(/^\s*import\s+(['"])([^'"]*)\1/gm),
    ].map((match) => match[2]);
    const statements = source.match(/^\s*(?:import|export)\s[^;]*?\sfrom\s|^\s*import\s+['"]/gm);

    // Assert
    expect(specifiers).toHaveLength(statements?.length ?? 0);
    for (const specifier of specifiers) expect(siblings).toContain(specifier);
  });

  it.each(
    files.flatMap((file) => forbidden.map(([what, pattern]) => [file, what, pattern] as const)),
  )('when %s is read, then it contains no %s', (file, _what, pattern) => {
    expect(sourceOf(file)).not.toMatch(pattern);
  });
});
