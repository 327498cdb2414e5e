import type { ConsoleKit } from '../kit';

export function registerResidentPages(_kit: ConsoleKit): void {}
