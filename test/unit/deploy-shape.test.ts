import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../../common/config';
import { generateCodecKey } from '../../common/payload-codec';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../common/search-attributes';

const root = path.join(__dirname, '..', '..');

interface ComposeService {
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | boolean | null>;
}

function compose(): { services: Record<string, ComposeService> } {
  const source = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
  // The file shares the app environment through YAML merge keys (`<<: *app-environment`).
  return YAML.parse(source, { merge: true }) as { services: Record<string, ComposeService> };
}

/** Resolves `${NAME:-default}` as compose does when NAME is unset. */
function withComposeDefaults(env: ComposeService['environment']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env ?? {}).map(([name, value]) => [
      name,
      String(value ?? '').replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1'),
    ]),
  );
}

describe('docker-compose.yml', () => {
  it('when parsed, then it has the Temporal, store, mail and app services', () => {
    // Act
    const { services } = compose();

    // Assert
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([
        'postgresql',
        'temporal',
        'temporal-ui',
        'mongodb',
        'mailpit',
        'api',
        'worker',
      ]),
    );
  });

  it.each(['api', 'worker'])(
    'when %s is read, then it is built from the project Dockerfile and has the connection settings',
    (name) => {
      // Act
      const service = compose().services[name];

      // Assert
      const build = service?.build;
      const context = typeof build === 'string' ? build : (build?.context ?? '.');
      const dockerfile =
        typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
      expect(build).toBeDefined();
      expect(existsSync(path.join(root, context, dockerfile))).toBe(true);
      expect(Object.keys(service?.environment ?? {})).toEqual(
        expect.arrayContaining(['TEMPORAL_ADDRESS', 'MONGODB_URI', 'SMTP_URL']),
      );
    },
  );

  it.each(['api', 'worker'])(
    'when %s environment is loaded, then the config accepts it and names compose services',
    (name) => {
      // Arrange
      const { services } = compose();
      // The operator sets the payload codec keys, as the file's header says.
      const env = {
        ...withComposeDefaults(services[name]?.environment),
        TEMPORAL_CODEC_KEYS: generateCodecKey('k1'),
      };

      // Act
      const config = loadConfig(env);

      // Assert
      const hostOf = (url: string) => new URL(url).hostname;
      expect(Object.keys(services)).toEqual(
        expect.arrayContaining([
          config.TEMPORAL_ADDRESS.split(':')[0],
          hostOf(config.MONGODB_URI),
          hostOf(config.SMTP_URL),
        ]),
      );
    },
  );

  it.each(['api', 'worker'])(
    'when %s is started without TEMPORAL_CODEC_KEYS, then it refuses, naming the variable',
    (name) => {
      // Arrange
      const env = withComposeDefaults(compose().services[name]?.environment);

      // Act
      const loading = () => loadConfig(env);

      // Assert
      expect(env.TEMPORAL_CODEC_KEYS).toBe('');
      expect(loading).toThrow(/TEMPORAL_CODEC_KEYS: required in production/);
    },
  );
});

describe('deploy/temporal/register-search-attributes.sh', () => {
  it('when read, then it registers every custom search attribute of the engine', () => {
    // Arrange
    const script = readFileSync(
      path.join(root, 'deploy', 'temporal', 'register-search-attributes.sh'),
      'utf8',
    );

    // Act
    const names = CUSTOM_SEARCH_ATTRIBUTES.map((attribute) => attribute.name);

    // Assert
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(script).toContain(name);
  });

  it('when read, then each attribute is registered with the type the engine declares', () => {
    // Arrange
    const script = readFileSync(
      path.join(root, 'deploy', 'temporal', 'register-search-attributes.sh'),
      'utf8',
    );

    // Act
    // The temporal CLI spells types in PascalCase: KEYWORD → Keyword, KEYWORD_LIST → KeywordList.
    const cliType = (type: string) =>
      type
        .toLowerCase()
        .split('_')
        .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
        .join('');
    const pairs = CUSTOM_SEARCH_ATTRIBUTES.map(
      (attribute) => `${attribute.name}=${cliType(attribute.type)}`,
    );

    // Assert
    for (const pair of pairs) expect(script).toContain(pair);
  });
});
