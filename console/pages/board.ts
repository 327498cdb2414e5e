import type { ConsoleKit } from '../kit';

export function registerBoardPages(_kit: ConsoleKit): void {}
