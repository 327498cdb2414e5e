import { readFile } from 'node:fs/promises';
import { testStack } from '../support/test-stack';

/**
 * The bundle the workers load (built once per test run, as `npm run bundle` builds it). Temporal
 * evaluates the bundle's modules again for every workflow it starts, so a library pulled in by a
 * value import costs CPU on every case: zod and the definition schemas (lang/definition.ts) once
 * took about 11% of the workflow threads' time through three constants (bench/README.md, "The
 * drivers apart, and two cuts"). Workflow code takes such names from lang/names.ts.
 */
describe('workflow bundle', () => {
  it('holds neither zod nor the definition schemas', async () => {
    const code = await readFile(testStack().workflowBundlePath, 'utf8');
    expect(code.length).toBeGreaterThan(100_000); // a real bundle was read
    // Webpack names each module by its path in quotes; comments may mention a file, not a module.
    expect(code).toContain('"./lang/names.ts"');
    expect(code).not.toContain('node_modules/zod/');
    expect(code).not.toContain('"./lang/definition.ts"');
  });
});
