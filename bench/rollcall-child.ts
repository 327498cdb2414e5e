import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../common/config';
import { startSmtpSink } from '../stack/smtp-sink';
import { startWorker } from '../worker';
import { rosterEntriesInserted } from '../activities/roll-calls';
import { storeProfile } from './store-profile';

/**
 * A process of its own for `bench:rollcall --split` (bench/README.md, "The roll-call at scale"):
 * `worker <bundle>` runs one engine worker (its outbox dispatcher with it) on the configuration
 * in its environment, as a deployment runs the worker apart from the API; `sink <mailDir>
 * <smtpPort> <httpPort>` runs the SMTP sink, standing for a relay on another machine. Forked by
 * bench/rollcall.ts over IPC: it sends `{ ready: true }` once started, answers `stats` with the
 * dispatcher's counters, the roster entries written and (with `monitorCommands=true` in its
 * `MONGODB_URI`, `--profile`) its store commands tallied, and stops on `stop`.
 */

type Message = 'stats' | 'stop';

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  let stats: () => unknown = () => null;
  let stop: () => Promise<void>;
  if (mode === 'worker') {
    // The parent stops this worker in order; Ctrl-C must not stop it underneath.
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
    const worker = await startWorker(loadConfig(process.env), {
      workflowBundle: { codePath: args[0]! },
    });
    const profile = process.env.MONGODB_URI?.includes('monitorCommands=true')
      ? storeProfile()
      : null;
    profile?.attach('worker process');
    stats = () => ({
      outbox: worker.outboxStats(),
      roster: rosterEntriesInserted.count,
      store: profile?.tally() ?? {},
    });
    stop = () => worker.stop();
  } else if (mode === 'sink') {
    const sink = await startSmtpSink({
      mailDir: args[0]!,
      smtpPort: Number(args[1]),
      httpPort: Number(args[2]),
    });
    stop = () => sink.stop();
  } else {
    throw new Error(`bench/rollcall-child.ts: unknown mode ${String(mode)} (worker or sink)`);
  }
  process.on('message', (message: Message) => {
    if (message === 'stats') process.send!({ stats: stats() });
    if (message === 'stop') {
      void stop().finally(() => {
        process.send!({ stopped: true }, () => process.exit(0));
      });
    }
  });
  // The parent's Ctrl-C reaches this process too: the parent stops it in order.
  process.on('SIGINT', () => undefined);
  process.on('disconnect', () => process.exit(1));
  process.send!({ ready: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
