import type { ConsoleKit } from '../kit';

export function registerDefinitionPages(_kit: ConsoleKit): void {}
