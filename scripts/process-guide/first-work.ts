/**
 * Where the example case first needs a person: the task or claim pool steps it reaches first
 * (through decisions, parallel branches and sub-processes), and a demo account that works one.
 */

import { reviewTaskStep } from '../../lang/assessment';
import type { StepSpec } from '../../lang/definition';
import { evaluateCondition } from '../../lang/expression';
import type { DemoAccount } from '../../demo/county';
import type { DemoCounty } from './demo-county';
import type { Process } from './processes';
import { sampleData } from './samples';

export type WorkStep = StepSpec & { type: 'task' | 'claim' };

export interface FirstWork {
  process: Process;
  unitId: string;
  data: Record<string, unknown>;
  steps: WorkStep[];
  /** How the work is reached: through a sub-process step of the started case. */
  via?: StepSpec & { type: 'subprocess' };
  /** When no task opens at once: the step that waits. */
  waitsAt?: StepSpec;
}

/** The task or pool steps that open first for the example case (several after a parallel). */
export function firstWork(
  process: Process,
  unitId: string,
  data: Record<string, unknown>,
  processes: ReadonlyMap<string, Process>,
  demo: DemoCounty,
): FirstWork {
  const { spec } = process;
  const byId = new Map(spec.steps.map((s, i) => [s.id, i]));
  let index = spec.start !== undefined ? (byId.get(spec.start) ?? 0) : 0;
  for (let guard = 0; guard < spec.steps.length + 1; guard++) {
    const step = spec.steps[index];
    if (!step) break;
    const goTo = (id: string | undefined) => (id !== undefined ? (byId.get(id) ?? -1) : index + 1);
    switch (step.type) {
      case 'task':
      case 'claim':
        return { process, unitId, data, steps: [step] };
      case 'assessment':
        // The figures are computed at once; the review (审定) is the first work.
        return { process, unitId, data, steps: [reviewTaskStep(step)] };
      case 'notify':
      case 'publish':
      case 'lookup': // reads at once; the task after it is the first work
      case 'grant':
        index = goTo(step.next);
        continue;
      case 'decision': {
        const scope = {
          data,
          steps: {},
          case: { unitId, receivedAt: '2026-06-01T09:00:00+08:00' },
        };
        const taken = step.branches.find((b) => {
          try {
            return evaluateCondition(b.when, scope);
          } catch {
            return false;
          }
        });
        index = goTo(taken?.next ?? step.otherwise);
        continue;
      }
      case 'repeat': {
        const first = step.steps[0];
        return first?.type === 'task' || first?.type === 'claim'
          ? { process, unitId, data, steps: [first] }
          : { process, unitId, data, steps: [], waitsAt: step };
      }
      case 'parallel': {
        const firsts = step.branches
          .map((b) => b.steps[0])
          .filter((s): s is WorkStep => s?.type === 'task' || s?.type === 'claim');
        return firsts.length > 0
          ? { process, unitId, data, steps: firsts }
          : { process, unitId, data, steps: [], waitsAt: step };
      }
      case 'subprocess': {
        const child = processes.get(step.definition);
        if (!child) return { process, unitId, data, steps: [], waitsAt: step };
        const childUnits =
          step.forEach !== undefined && typeof step.forEach === 'object'
            ? demo.unitsOfType(step.forEach.units.type, unitId)
            : step.unit === 'item' && typeof step.forEach === 'string'
              ? (() => {
                  const list = data[step.forEach.replace(/^data\./, '')];
                  return Array.isArray(list) ? list.map(String) : [];
                })()
              : [unitId];
        const childData = sampleData(child.spec.key, child.spec.input.fields, unitId, 'data');
        // The first unit of the fan-out whose task a demo account works, else the first.
        const options = childUnits.map((u) => firstWork(child, u, childData, processes, demo));
        const chosen = options.find((o) => workerFor(o, demo) !== null) ?? options[0];
        if (!chosen || chosen.steps.length === 0) {
          return { process, unitId, data, steps: [], waitsAt: step };
        }
        return { ...chosen, via: step };
      }
      default:
        return { process, unitId, data, steps: [], waitsAt: step };
    }
  }
  return { process, unitId, data, steps: [] };
}

/** A demo account among the candidates of the first work steps, with its step. */
export function workerFor(
  work: FirstWork,
  demo: DemoCounty,
): { account: DemoAccount; step: WorkStep } | null {
  for (const step of work.steps) {
    const people = new Set<string>();
    for (const selector of step.candidates) {
      for (const person of demo.people(selector, work.unitId, work.data) ?? []) people.add(person);
    }
    const account = demo.county.accounts.find((a) => people.has(a.personId));
    if (account) return { account, step };
  }
  return null;
}
