/**
 * The worked example of each process: starting a case as a demo account and working its first
 * task with `curl`, as the guide shows it and as the end-to-end test runs it.
 */

import { validateCaseData } from '../../lang/case-data';
import type { DemoAccount } from '../../demo/county';
import { DEMO_PASSWORD } from '../../demo/county';
import { DemoCounty } from './demo-county';
import { firstWork, workerFor } from './first-work';
import { code } from './markdown';
import { selectorText } from './phrases';
import type { Process } from './processes';
import { loadProcesses } from './processes';
import { DEFAULT_EXAMPLE_UNIT, EXAMPLE_UNITS, sampleData } from './samples';

function shellJson(value: unknown): string {
  return `'${JSON.stringify(value).replace(/'/g, "'\\''")}'`;
}

function loginLine(variable: string, username: string): string[] {
  return [
    `${variable}=$(curl -s $API/auth/login -H 'Content-Type: application/json' \\`,
    `  -d '{"username":"${username}","password":"${DEMO_PASSWORD}"}' | jq -r .token)`,
  ];
}

/** The example case of a process: its unit, its data and the demo account that starts it. */
function exampleStart(process: Process, demo: DemoCounty) {
  const { spec } = process;
  const unitId = EXAMPLE_UNITS[spec.key] ?? DEFAULT_EXAMPLE_UNIT;
  if (!demo.tree.has(unitId)) throw new Error(`${spec.key}: no demo unit "${unitId}"`);
  const data =
    spec.schedule !== undefined && Object.keys(spec.schedule.data).length > 0
      ? { ...spec.schedule.data }
      : sampleData(spec.key, spec.input.fields, unitId, 'data');
  const checked = validateCaseData(spec.input.fields, data);
  if (!checked.ok) throw new Error(`${spec.key}: the example data is not valid`);
  return { unitId, data, starter: demo.starter(spec, unitId) };
}

/**
 * Each process's example start as the guide shows it (the request body and the demo account),
 * for the test that starts every one of them against the demo county.
 */
export function guideExamples(): Array<{
  key: string;
  username: string | null;
  body: Record<string, unknown>;
}> {
  const demo = new DemoCounty();
  return loadProcesses().map((process) => {
    const { spec } = process;
    const { unitId, data, starter } = exampleStart(process, demo);
    const body: Record<string, unknown> = { definitionKey: spec.key, unitId };
    if (spec.categories !== undefined) body.category = spec.categories[0]!.code;
    body.data = data;
    return { key: spec.key, username: starter?.username ?? null, body };
  });
}

export function exampleLines(
  process: Process,
  processes: ReadonlyMap<string, Process>,
  demo: DemoCounty,
): string[] {
  const { spec } = process;
  const { unitId, data, starter } = exampleStart(process, demo);
  const lines: string[] = [];
  if (!starter) {
    lines.push(
      `No demo account may start it (starters: ${spec.starters.join(', ')}); use the admin API key (\`Authorization: Bearer $(cat .stack/data/admin-api-key)\`) as a system.`,
    );
    return lines;
  }
  const body: Record<string, unknown> = { definitionKey: spec.key, unitId };
  if (spec.categories !== undefined) body.category = spec.categories[0]!.code;
  body.data = data;
  lines.push(
    `Start it as \`${starter.username}\` (${starter.persona}) for ${demo.unitName(unitId)} (\`${unitId}\`):`,
    '',
    '```sh',
    ...loginLine('TOKEN', starter.username),
    `CASE=$(curl -s $API/cases -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
    `  -H 'Idempotency-Key: guide-${spec.key}-1' \\`,
    `  -d ${shellJson(body)} | jq -r .id)`,
  );
  const work = firstWork(process, unitId, data, processes, demo);
  const worker = workerFor(work, demo);
  const step = worker?.step ?? work.steps[0];
  const after = [
    '',
    '# the case: its status, current step, timeline and deadlines',
    'curl -s $API/cases/$CASE -H "Authorization: Bearer $TOKEN" | jq',
    '```',
  ];
  if (!step) {
    lines.push(...after);
    const waits = work.waitsAt;
    if (waits === undefined || waits.type === 'end') {
      lines.push('', 'No human task: the case runs to its end by itself.');
    } else {
      lines.push(
        '',
        `No task opens at once: the case first reaches **${waits.name}** (${code(waits.id)}, ${waits.type}).`,
      );
    }
    return lines;
  }
  const inChild = work.via !== undefined;
  const spec2 = work.process.spec;
  const select = inChild
    ? `select(.definitionKey == "${spec2.key}" and .stepId == "${step.id}")`
    : `select(.stepId == "${step.id}")`;
  const caseFilter = inChild ? '' : '&caseId=$CASE';
  const asToken = (username: string, variable: string): string[] =>
    username === starter.username ? [`${variable}=$TOKEN`] : loginLine(variable, username);
  lines.push(
    '',
    inChild
      ? `# the first task is in a ${spec2.key} case (for ${work.unitId}): ${step.name} (${step.id})`
      : `# the first task: ${step.name} (${step.id})`,
  );
  const notes: string[] = [];
  // Who completes it: a demo account among the candidates, or one a dispatcher hands it to (转派).
  let holder: DemoAccount | null = worker?.account ?? null;
  if (worker) {
    lines.push(
      ...asToken(worker.account.username, 'WORKER'),
      'sleep 2 # the task opens a moment after the case starts',
      `TASK=$(curl -s "$API/tasks?view=available${caseFilter}" -H "Authorization: Bearer $WORKER" | jq -r '[.items[] | ${select}][0].id')`,
      `curl -s -X POST $API/tasks/$TASK/claim -H "Authorization: Bearer $WORKER" -H 'Content-Type: application/json' -d '{}'`,
    );
    notes.push(
      `\`${worker.account.username}\` (${worker.account.persona}) is among the candidates of **${step.name}**${inChild ? ` in the ${code(spec2.key)} case for ${demo.unitName(work.unitId)}` : ''}.`,
    );
  } else {
    const candidates = step.candidates.map((c) => selectorText(spec2, c)).join('; ');
    lines.push(
      ...asToken('demo-admin', 'ADMIN'),
      'sleep 2 # the task opens a moment after the case starts',
      `TASK=$(curl -s "$API/tasks?view=scope${caseFilter}" -H "Authorization: Bearer $ADMIN" | jq -r '[.items[] | ${select}][0].id')`,
    );
    holder = step.type === 'task' ? demo.dispatcherFor(work.unitId) : null;
    if (holder) {
      lines.push(
        `curl -s -X POST $API/tasks/$TASK/reassign -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \\`,
        `  -d '{"personId":"${holder.personId}","reason":"演示：转派给演示账号"}'`,
        ...asToken(holder.username, 'WORKER'),
      );
      notes.push(
        `No demo account holds the post that works **${step.name}** (${candidates}), so the admin hands it (转派) to \`${holder.username}\` (${holder.persona}), who then holds it.`,
      );
    } else {
      lines.push(
        `curl -s $API/tasks/$TASK -H "Authorization: Bearer $ADMIN" | jq '{name, status, candidates}'`,
      );
      notes.push(
        `No demo account is among the candidates of **${step.name}** (${candidates}); the task view lists who is, and a pool cannot be handed over (转派), so sign in as one of them to claim it.`,
      );
    }
  }
  if (holder && step.type === 'task') {
    const outcome = step.outcomes[0]!;
    const complete: Record<string, unknown> = { outcome: outcome.id };
    complete.form = step.form
      ? sampleData(spec2.key, step.form.fields, work.unitId, 'form', outcome.requires)
      : {};
    if (outcome.requiresComment) complete.comment = '已按要求办理';
    lines.push(
      `curl -s -X POST $API/tasks/$TASK/complete -H "Authorization: Bearer $WORKER" -H 'Content-Type: application/json' \\`,
      `  -d ${shellJson(complete)}`,
    );
  }
  lines.push(...after);
  if (step.type === 'claim') {
    notes.push(
      step.claimants.max === 'all'
        ? 'Claiming is reporting (报到): the roll-call closes when everyone has reported or its window ends.'
        : step.claimants.max === 1
          ? 'The first claim closes the pool and the case moves on.'
          : `The pool stays open for up to ${typeof step.claimants.max === 'object' ? `the number of claimants \`${step.claimants.max.expression}\` gives` : `${step.claimants.max} claimants`} or until its window ends; a dispatcher may close it early with \`/complete\`.`,
    );
  }
  lines.push('', notes.join(' '));
  return lines;
}
