import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { startApi } from './server';

// Entry point of the API process (production image, `npm run api`).
const logger = createLogger('api');

async function main(): Promise<void> {
  const api = await startApi(loadConfig());
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    api.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  logger.error({ err }, 'api failed to start');
  process.exit(1);
});
