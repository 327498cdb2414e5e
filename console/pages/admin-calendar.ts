import type { ConsoleKit } from '../kit';

export function registerCalendarPages(_kit: ConsoleKit): void {}
