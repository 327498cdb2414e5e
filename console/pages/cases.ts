import type { ConsoleKit } from '../kit';

export function registerCasePages(_kit: ConsoleKit): void {}
