import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import { checkInRuleOf, distanceMeters, judgeCheckIn, ruleOf } from '../../lang/check-in';
import type { StepSpec } from '../../lang/definition';
import { checkInInput } from '../../services/check-in';
import { importFromCsv } from '../../services/org-input';

/**
 * Location check-ins (签到): the rule a step declares, the distance arithmetic and the judgement
 * against a limit, the bounds a phone's position must keep, the validator's check of where a
 * check-in may be asked for, and unit locations in the org CSV.
 */
const GATE = { lat: 34.03, lng: 108.04 };

describe('distanceMeters (haversine, whole metres)', () => {
  it('when two positions are one arc-minute of latitude apart, then the distance is one nautical mile (1,853 m)', () => {
    expect(distanceMeters({ lat: 34, lng: 108 }, { lat: 34 + 1 / 60, lng: 108 })).toBe(1853);
  });

  it('when a position is measured against itself, then the distance is 0', () => {
    expect(distanceMeters(GATE, GATE)).toBe(0);
  });

  it('when a position lies 0.01° east at latitude 34°, then the distance shrinks with the cosine of the latitude (922 m, not 1,112 m)', () => {
    expect(distanceMeters(GATE, { lat: 34.03, lng: 108.05 })).toBe(922);
  });

  it('when two positions are antipodes, then the distance is half the Earth’s circumference', () => {
    expect(distanceMeters({ lat: 0, lng: 0 }, { lat: 0, lng: 180 })).toBe(20_015_114); // π × 6,371,008.8 m;
  });
});

describe('judgeCheckIn', () => {
  it('when the case has no place, then neither distance nor judgement is given', () => {
    expect(judgeCheckIn(GATE, null, 300)).toEqual({ distance: null, within: null });
  });

  it('when there is a place but no limit, then the distance is given and no judgement', () => {
    expect(judgeCheckIn({ lat: 34.0312, lng: 108.04 }, GATE, null)).toEqual({
      distance: 133,
      within: null,
    });
  });

  it('when the distance equals the limit, then it is within; a metre more is beyond', () => {
    const position = { lat: 34.0312, lng: 108.04 }; // 133 m
    expect(judgeCheckIn(position, GATE, 133).within).toBe(true);
    expect(judgeCheckIn(position, GATE, 132).within).toBe(false);
  });
});

describe('the rule a step declares', () => {
  const task = (checkIn: unknown) =>
    ({ id: 'arrive', name: '到场', type: 'task', checkIn }) as unknown as StepSpec;

  it('when written as a word or an object, then the same rule comes out (an object is required unless it says optional)', () => {
    expect(ruleOf('required')).toEqual({ required: true, withinMeters: null });
    expect(ruleOf('optional')).toEqual({ required: false, withinMeters: null });
    expect(ruleOf({ mode: 'required', withinMeters: 300 })).toEqual({
      required: true,
      withinMeters: 300,
    });
    expect(ruleOf(undefined)).toBeNull();
  });

  it('when a step of another type is asked, then it has no rule', () => {
    expect(checkInRuleOf(task('optional'))).toEqual({ required: false, withinMeters: null });
    expect(checkInRuleOf({ id: 'x', name: 'x', type: 'end' } as unknown as StepSpec)).toBeNull();
  });
});

describe('checkInInput (what a phone may send)', () => {
  const pathsOf = (value: unknown) => {
    const parsed = checkInInput.safeParse(value);
    return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
  };

  it('when the browser’s coords are sent, then they pass', () => {
    expect(
      pathsOf({ lat: 34.03, lng: 108.04, accuracy: 12.5, at: '2026-12-07T08:00:00+08:00' }),
    ).toEqual([]);
  });

  it('when a coordinate is out of range, the accuracy too coarse or negative, or a key unknown, then each is named', () => {
    expect(pathsOf({ lat: 91, lng: 108, accuracy: 10 })).toEqual(['lat']);
    expect(pathsOf({ lat: 34, lng: -181, accuracy: 10 })).toEqual(['lng']);
    expect(pathsOf({ lat: 34, lng: 108, accuracy: 1_001 })).toEqual(['accuracy']);
    expect(pathsOf({ lat: 34, lng: 108, accuracy: -1 })).toEqual(['accuracy']);
    expect(pathsOf({ lat: 34, lng: 108, accuracy: 10, altitude: 5 })).toEqual(['']);
    expect(pathsOf({ lat: 34, lng: 108, accuracy: 10, at: 'yesterday' })).toEqual(['at']);
  });
});

describe('validateDefinition: where a check-in may be asked for', () => {
  const problemsOf = (step: Record<string, unknown>): DefinitionProblem[] => {
    const result = validateDefinition(
      {
        key: 'test-check-in',
        name: 'Check-in',
        starters: ['admin'],
        input: { fields: [] },
        steps: [
          {
            id: 'pool',
            name: 'Pool',
            type: 'claim',
            candidates: [{ role: 'volunteer', unit: 'case' }],
            ...step,
          },
          { id: 'done', name: 'Done', type: 'end' },
        ],
      },
      { knownTemplates: new Set(['task-assigned']) },
    );
    return result.ok ? [] : result.problems;
  };

  it('when a roll-call asks for a check-in, then it is valid', () => {
    expect(problemsOf({ claimants: { max: 'all' }, checkIn: 'required' })).toEqual([]);
  });

  it('when a claim of one place asks for one, then the check-in is named', () => {
    expect(problemsOf({ checkIn: 'optional' })).toEqual([
      { path: 'steps[0].checkIn', message: expect.stringContaining('roll-call') as string },
    ]);
  });

  it('when the limit is below 10 m or not a word the language knows, then the schema names it', () => {
    const tooClose = problemsOf({ claimants: { max: 'all' }, checkIn: { withinMeters: 5 } });
    const unknown = problemsOf({ claimants: { max: 'all' }, checkIn: 'always' });
    expect(tooClose.map((p) => p.path)).toContain('steps[0].checkIn.withinMeters');
    expect(unknown.map((p) => p.path)).toEqual([expect.stringContaining('steps[0].checkIn')]);
  });
});

describe('unit locations in the org CSV', () => {
  it('when a row has lat and lng, then the unit gets a location; without them, none', () => {
    const { input } = importFromCsv(
      'units',
      'id,name,type,parentId,lat,lng\nk1,惠民小区,compound,,34.03,108.04\nb1,3号楼,building,k1,,\n',
    );
    expect(input.units).toEqual([
      { id: 'k1', name: '惠民小区', type: 'compound', parentId: null, location: GATE },
      { id: 'b1', name: '3号楼', type: 'building', parentId: 'k1' },
    ]);
  });

  it('when a row has lat without lng, or a latitude out of range, then the cell is named', () => {
    const problems = (csv: string) => {
      try {
        importFromCsv('units', csv);
        return [];
      } catch (err) {
        return (err as { details: Array<{ path: string; message: string }> }).details;
      }
    };
    expect(problems('id,name,type,parentId,lat,lng\nk1,小区,compound,,34.03,\n')).toEqual([
      { path: 'row 2, column lng', message: 'a place needs both lat and lng' },
    ]);
    expect(problems('id,name,type,parentId,lat,lng\nk1,小区,compound,,94,108\n')).toEqual([
      { path: 'row 2, column lat', message: 'a latitude from -90 to 90' },
    ]);
  });
});
