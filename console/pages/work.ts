import type { ConsoleKit } from '../kit';

export function registerWorkPages(_kit: ConsoleKit): void {}
