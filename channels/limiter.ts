/**
 * Keeps each group robot under its vendor's rate: at most `perWindow` messages in any
 * `windowMs` (WeCom and DingTalk both allow 20 a minute per robot, their robot documentation).
 * Per process: several workers each keep their own count, so a robot may still answer with a
 * rate-limit errcode, which the outbox retries after the vendor's pause (robots.ts).
 */
export interface RobotLimiter {
  /** Takes a slot for `key` now (0), or says in how many ms one is free (nothing taken). */
  take(key: string, nowMs: number): number;
}

export const ROBOT_RATE = { perWindow: 20, windowMs: 60_000 } as const;

export function createRobotLimiter(
  rate: { perWindow: number; windowMs: number } = ROBOT_RATE,
): RobotLimiter {
  const sent = new Map<string, number[]>();
  return {
    take(key, nowMs) {
      const recent = (sent.get(key) ?? []).filter((at) => at > nowMs - rate.windowMs);
      if (recent.length >= rate.perWindow) {
        sent.set(key, recent);
        return recent[0]! + rate.windowMs - nowMs;
      }
      recent.push(nowMs);
      sent.set(key, recent);
      return 0;
    },
  };
}
