import { readFileSync } from 'node:fs';
import path from 'node:path';
import { caseStartOf } from '../../common/case-start';
import type { DefinitionSnapshot, DefinitionSpec } from '../../lang/definition';
import { parseDefinitionSource } from '../../lang/source';
import type { FanOutChildStart } from '../../workflows/fan-out-batch';
import { childStartsOf, compactSlice, fanOutSlices } from '../../workflows/fan-out-batch';

/**
 * The slices a large fan-out hands its batch workflows (workflows/fan-out-batch.ts): the compact
 * shape carries what the children share once, gives back every child's input and memo exactly,
 * and keeps the parent's history small enough for the largest fan-out allowed (20,000 children).
 */

function shippedDefinition(file: string): DefinitionSnapshot {
  const text = readFileSync(path.join(__dirname, '../../definitions', file), 'utf8');
  const parsed = parseDefinitionSource(text, 'yaml');
  if (!parsed.ok) throw new Error(`${file} does not parse`);
  const spec = parsed.raw as DefinitionSpec;
  return { key: spec.key, version: 3, checksum: 'c'.repeat(64), spec };
}

const compound = shippedDefinition('emergency-compound.yaml');

/** Children as the sub-process step builds them: one per compound, started by the engine. */
function compoundChildren(count: number, from = 0): FanOutChildStart[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const caseId = `case-${n.toString(16).padStart(24, '0')}`;
    const unitId = `compound-${n}`;
    const start = caseStartOf({
      caseId,
      definition: compound,
      data: { reason: '暴雨红色预警', instructions: '立即到小区报到', unitId },
      startedBy: { kind: 'system', id: 'engine', roles: ['system'] },
      unitId,
      requestHash: `subprocess:case-parent:activate:${n}`,
      receivedAt: '2026-12-07T23:00:00.000Z',
      channel: 'subprocess',
      parentCaseId: 'case-parent',
    });
    return { workflowId: caseId, input: start.args[0], memo: start.memo };
  });
}

describe('a compact fan-out slice', () => {
  it('when a slice is compacted, then every child comes back with the same input and memo, key for key', () => {
    // Arrange
    const children = compoundChildren(250);

    // Act
    const slice = compactSlice(children, true);
    const back = childStartsOf(slice);

    // Assert: the definition and the other common fields once; per child what differs
    expect(slice).toMatchObject({ shared: { definition: { key: 'emergency-compound' } } });
    expect('each' in slice && slice.each.every((own) => own.definition === undefined)).toBe(true);
    expect(JSON.stringify(back)).toBe(JSON.stringify(children));
  });

  it('when a field is absent from some children, then it stays with each child and nothing is invented', () => {
    // Arrange: the second child has no unit (a fan-out over items without `unit`)
    const children = compoundChildren(3);
    const withoutUnit = { ...children[1]!.input };
    delete withoutUnit.unitId;
    const start = caseStartOf(withoutUnit);
    children[1] = { workflowId: children[1]!.workflowId, input: start.args[0], memo: start.memo };

    // Act
    const slice = compactSlice(children, false);

    // Assert
    expect('shared' in slice && 'unitId' in slice.shared).toBe(false);
    expect(JSON.stringify(childStartsOf(slice))).toBe(JSON.stringify(children));
  });

  it('when a memo is not the one its input gives, then the slice keeps every child whole', () => {
    // Arrange: a start whose memo another starter wrote differently
    const children = compoundChildren(2);
    children[0] = { ...children[0]!, memo: { ...children[0]!.memo, channel: 'api' } };

    // Act
    const slice = compactSlice(children, true);

    // Assert
    expect(slice).toEqual({ children, wait: true });
    expect(childStartsOf(slice)).toEqual(children);
  });

  it('when an input holds a field the start builder does not copy, then the slice keeps every child whole', () => {
    // Arrange: a test-only threshold the builder never writes (it would be lost on rebuilding)
    const children = compoundChildren(2);
    children[1] = {
      ...children[1]!,
      input: { ...children[1]!.input, historyLimits: { events: 10, bytes: 1000 } },
    };

    // Act
    const slice = compactSlice(children, false);

    // Assert
    expect(slice).toEqual({ children, wait: false });
  });

  it('when 20,000 compounds fan out, then the batch inputs in the parent history stay under 10 MB, where whole inputs would pass the 50 MB limit', () => {
    // Arrange: one slice of 250 measured, as the sub-process step cuts them (FAN_OUT_SLICE)
    const [slice] = fanOutSlices(
      compoundChildren(250).map((child) => ({
        workflowId: child.workflowId,
        start: { args: [child.input], memo: child.memo },
      })),
      250,
    );

    // Act
    const compactBytes = Buffer.byteLength(JSON.stringify(compactSlice(slice!, true)));
    const wholeBytes = Buffer.byteLength(JSON.stringify({ children: slice, wait: true }));
    const slices = 20_000 / 250;

    // Assert
    expect(compactBytes * slices).toBeLessThan(10 * 1024 * 1024);
    expect(wholeBytes * slices).toBeGreaterThan(50 * 1024 * 1024);
  });
});
