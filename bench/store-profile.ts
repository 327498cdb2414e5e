import mongoose from 'mongoose';
import type { CommandStartedEvent, CommandSucceededEvent, MongoClient } from 'mongodb';

/**
 * Store commands one process sent, by command and collection (driver command monitoring: the
 * connection string's `monitorCommands=true`), for `bench:rollcall --profile`: how many, the
 * milliseconds they took summed, and the documents they answered or wrote. Every mongoose
 * connection the process opened is watched (the API's, the worker's, the bench's own).
 */
export interface StoreCommandTally {
  [commandAndCollection: string]: { count: number; ms: number; docs: number };
}

/** Adds `monitorCommands=true` to a MongoDB connection string. */
export function withCommandMonitoring(uri: string): string {
  return `${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true`;
}

export interface StoreProfile {
  /**
   * Starts watching the connections opened since the last call, their commands tallied under
   * `label` (the API's, the bench's own polls).
   */
  attach(label: string): void;
  /** The tally so far (a copy). */
  tally(): StoreCommandTally;
}

export function storeProfile(): StoreProfile {
  const watched = new WeakSet<MongoClient>();
  const begun = new Map<number, string>();
  const counts: StoreCommandTally = {};
  const onStarted = (label: string) => (event: CommandStartedEvent) => {
    const command = event.command as Record<string, unknown>;
    const target = command[event.commandName];
    // getMore names its collection in `collection`; the others as the command's value.
    const collection =
      typeof target === 'string'
        ? target
        : typeof command.collection === 'string'
          ? command.collection
          : '';
    begun.set(event.requestId, `${label}: ${event.commandName} ${collection}`.trim());
  };
  const onSucceeded = (event: CommandSucceededEvent) => {
    const key = begun.get(event.requestId);
    if (key === undefined) return;
    begun.delete(event.requestId);
    const reply = event.reply as {
      n?: number;
      cursor?: { firstBatch?: unknown[]; nextBatch?: unknown[] };
    };
    const docs = reply.cursor
      ? (reply.cursor.firstBatch ?? reply.cursor.nextBatch ?? []).length
      : (reply.n ?? 0);
    const entry = (counts[key] ??= { count: 0, ms: 0, docs: 0 });
    entry.count += 1;
    entry.ms += event.duration;
    entry.docs += docs;
  };
  const onFailed = (event: { requestId: number }) => {
    begun.delete(event.requestId);
  };
  return {
    attach(label) {
      for (const connection of mongoose.connections) {
        let client: MongoClient;
        try {
          client = connection.getClient();
        } catch {
          continue;
        }
        if (!client || watched.has(client)) continue;
        watched.add(client);
        client.on('commandStarted', onStarted(label));
        client.on('commandSucceeded', onSucceeded);
        client.on('commandFailed', onFailed);
      }
    },
    tally() {
      return structuredClone(counts);
    },
  };
}

/**
 * The tally's lines, one block per label (the commands' sum, then the largest by summed time),
 * each count also per person called.
 */
export function storeProfileLines(tally: StoreCommandTally, people: number, top = 12): string[] {
  const byLabel = new Map<string, Array<[string, StoreCommandTally[string]]>>();
  for (const [key, row] of Object.entries(tally)) {
    const at = key.indexOf(': ');
    const label = at < 0 ? '' : key.slice(0, at);
    const rows = byLabel.get(label) ?? [];
    rows.push([key.slice(at + 2), row]);
    byLabel.set(label, rows);
  }
  const lines: string[] = [];
  for (const [label, rows] of byLabel) {
    rows.sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((n, [, r]) => n + r.count, 0);
    const ms = rows.reduce((n, [, r]) => n + r.ms, 0);
    lines.push(
      `store commands, ${label}: ${total} (${(total / people).toFixed(2)} per person), ${(ms / 1000).toFixed(1)} s summed`,
      ...rows
        .slice(0, top)
        .map(
          ([key, r]) =>
            `  ${key.padEnd(34)} ${String(r.count).padStart(7)} (${(r.count / people).toFixed(2)}/person) ${(r.ms / 1000).toFixed(1).padStart(7)} s ${String(r.docs).padStart(9)} docs`,
        ),
    );
  }
  return lines;
}
