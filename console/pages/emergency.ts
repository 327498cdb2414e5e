import type { ConsoleKit } from '../kit';

export function registerEmergencyPages(_kit: ConsoleKit): void {}
