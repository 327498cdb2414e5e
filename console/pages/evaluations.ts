import type { ConsoleKit } from '../kit';

export function registerEvaluationPages(_kit: ConsoleKit): void {}
