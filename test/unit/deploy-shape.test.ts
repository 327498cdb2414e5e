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
  ports?: Array<string | { host_ip?: string; published?: string | number }>;
}

function composeSource(): string {
  return readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
}

function compose(): { services: Record<string, ComposeService> } {
  const source = composeSource();
  // The file shares the app environment through YAML merge keys (`<<: *app-environment`).
  return YAML.parse(source, { merge: true }) as { services: Record<string, ComposeService> };
}

/**
 * Resolves `${NAME:-default}` as compose does when NAME is unset, and a required `${NAME:?…}` as
 * an operator would set it (a hex secret, as the compose file asks).
 */
function withComposeDefaults(env: ComposeService['environment']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env ?? {}).map(([name, value]) => [
      name,
      String(value ?? '')
        .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
        .replace(/\$\{([A-Z_]+):\?[^}]*\}/g, (_, variable: string) =>
          variable === 'TEMPORAL_CODEC_KEYS' ? OPERATOR_CODEC_KEYS : 'a'.repeat(48),
        ),
    ]),
  );
}

/** A key ring as an operator sets it (one 32-byte key). */
const OPERATOR_CODEC_KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

/** Variables compose must refuse to start without: every password and secret of the stack. */
const REQUIRED_SECRETS = [
  'CONSOLE_SECRET',
  'PHONE_KEY_SECRET',
  'MONGODB_PASSWORD',
  'TEMPORAL_DB_PASSWORD',
  'TEMPORAL_CODEC_KEYS',
];

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
    'when %s is started with an empty TEMPORAL_CODEC_KEYS (past compose), then it refuses, naming the variable',
    (name) => {
      // Arrange
      const env = {
        ...withComposeDefaults(compose().services[name]?.environment),
        TEMPORAL_CODEC_KEYS: '',
      };

      // Act
      const loading = () => loadConfig(env);

      // Assert
      expect(loading).toThrow(/TEMPORAL_CODEC_KEYS: required in production/);
    },
  );
});

describe('docker-compose.yml exposure and secrets', () => {
  it('when ports are published, then only the api listens beyond the host; admin UIs and stores on 127.0.0.1 or not at all', () => {
    // Arrange
    const { services } = compose();

    // Act
    const published = Object.entries(services).flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => ({
        name,
        hostIp:
          typeof port === 'string'
            ? (/^(\d+\.\d+\.\d+\.\d+):/.exec(port)?.[1] ?? '')
            : (port.host_ip ?? ''),
      })),
    );

    // Assert
    expect(published.map((p) => p.name).sort()).toEqual([
      'api',
      'mailpit',
      'temporal',
      'temporal-ui',
    ]);
    for (const { name, hostIp } of published.filter((p) => p.name !== 'api')) {
      expect({ name, hostIp }).toEqual({ name, hostIp: '127.0.0.1' });
    }
    expect(services.postgresql?.ports).toBeUndefined();
    expect(services.mongodb?.ports).toBeUndefined();
  });

  it.each(REQUIRED_SECRETS)(
    'when %s is unset, then compose refuses to start with a message (required, no default)',
    (name) => {
      // Arrange
      const source = composeSource();

      // Act
      const required = [...source.matchAll(new RegExp(`\\$\\{${name}:\\?([^}]+)\\}`, 'g'))];
      const defaulted = new RegExp(`\\$\\{${name}(:?-[^}]*)?\\}`).test(source);

      // Assert
      expect(required.length).toBeGreaterThan(0);
      for (const match of required) expect(match[1]).toContain(name);
      expect(defaulted).toBe(false);
    },
  );

  it('when any service is configured with a password or secret, then it comes from a required variable', () => {
    // Arrange
    const { services } = compose();

    // Act
    const secrets = Object.entries(services).flatMap(([service, { environment }]) =>
      Object.entries(environment ?? {})
        .filter(([key]) => /PASSWORD|PWD|SECRET/.test(key))
        .map(([key, value]) => ({ service, key, value: String(value) })),
    );

    // Assert
    expect(secrets.map((s) => `${s.service}.${s.key}`)).toEqual(
      expect.arrayContaining([
        'api.CONSOLE_SECRET',
        'api.PHONE_KEY_SECRET',
        'postgresql.POSTGRES_PASSWORD',
        'mongodb.MONGO_INITDB_ROOT_PASSWORD',
      ]),
    );
    for (const secret of secrets) {
      expect({ ...secret, required: /^\$\{[A-Z_]+:\?[^}]+\}$/.test(secret.value) }).toEqual({
        ...secret,
        required: true,
      });
    }
    for (const name of ['api', 'worker']) {
      expect(String(services[name]?.environment?.MONGODB_URI)).toContain('${MONGODB_PASSWORD:?');
    }
  });
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
