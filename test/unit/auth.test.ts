import {
  DUMMY_PASSWORD_HASH,
  hashPassword,
  hashPasswordWith,
  hashToken,
  needsRehash,
  newToken,
  verifyPassword,
} from '../../services/auth';

describe('hashPassword and verifyPassword', () => {
  it('when the right password is checked against its hash, then it verifies', async () => {
    // Arrange
    const stored = await hashPassword('correct horse battery');

    // Act
    const ok = await verifyPassword('correct horse battery', stored);

    // Assert
    expect(ok).toBe(true);
    expect(stored).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
    expect(needsRehash(stored)).toBe(false);
  });

  it('when a wrong password is checked, then it does not verify', async () => {
    // Arrange
    const stored = await hashPassword('correct horse battery');

    // Act
    const ok = await verifyPassword('Correct horse battery', stored);

    // Assert
    expect(ok).toBe(false);
  });

  it('when the same password is hashed twice, then the hashes differ (random salt)', async () => {
    // Act
    const [first, second] = await Promise.all([hashPassword('same'), hashPassword('same')]);

    // Assert
    expect(first).not.toBe(second);
    await expect(verifyPassword('same', second)).resolves.toBe(true);
  });

  it.each([
    '',
    'not-a-hash',
    'bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA',
    'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA',
    'scrypt$16384$8$1$$AAAA',
  ])('when the stored hash is malformed (%j), then it does not verify', async (stored) => {
    // Act
    const ok = await verifyPassword('anything', stored);

    // Assert
    expect(ok).toBe(false);
  });

  it('when the stored hash part is truncated to nothing, then no password verifies', async () => {
    // Arrange
    const stored = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$A';

    // Act
    const ok = await verifyPassword('any password at all', stored);

    // Assert
    expect(ok).toBe(false);
  });

  it('when the stored scrypt parameters are not valid numbers, then it answers false', async () => {
    // Arrange
    const stored =
      'scrypt$abc$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

    // Act
    const result = verifyPassword('anything', stored);

    // Assert
    await expect(result).resolves.toBe(false);
  });

  it('when a hash has older scrypt parameters, then it still verifies and needs a rehash', async () => {
    // Arrange
    const old = await hashPasswordWith('correct horse battery', { N: 16384, r: 8, p: 1 });

    // Act
    const ok = await verifyPassword('correct horse battery', old);

    // Assert
    expect(old).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(ok).toBe(true);
    expect(needsRehash(old)).toBe(true);
  });

  it("when a stored hash asks for a cost far above today's, then it answers false without running it", async () => {
    // Arrange
    const stored =
      'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

    // Act
    const ok = await verifyPassword('anything', stored);

    // Assert
    expect(ok).toBe(false);
  });

  it('when checked against the dummy hash, then no password verifies', async () => {
    // Act
    const ok = await verifyPassword('', DUMMY_PASSWORD_HASH);

    // Assert
    expect(ok).toBe(false);
  });
});

describe('newToken', () => {
  it('when an API key is made, then it reads gfk_<12 hex>_<secret> with publicId key_<same hex>', () => {
    // Act
    const { token, publicId } = newToken('apiKey');

    // Assert
    const match = /^gfk_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/.exec(token);
    expect(match).not.toBeNull();
    expect(publicId).toBe(`key_${match?.[1]}`);
    expect(publicId).toMatch(/^key_[0-9a-f]{12}$/);
  });

  it('when a session token is made, then it reads gfs_<12 hex>_<secret> with publicId ses_<hex>', () => {
    // Act
    const { token, publicId } = newToken('session');

    // Assert
    const match = /^gfs_([0-9a-f]{12})_[A-Za-z0-9_-]{32}$/.exec(token);
    expect(match).not.toBeNull();
    expect(publicId).toBe(`ses_${match?.[1]}`);
  });

  it('when tokens are made, then each one is new and fits the Bearer token syntax', () => {
    // Act
    const tokens = Array.from({ length: 20 }, () => newToken('apiKey').token);

    // Assert
    expect(new Set(tokens).size).toBe(20);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{20,200}$/);
  });
});

describe('hashToken', () => {
  it('when the same token is hashed twice, then the hash is the same sha256 hex', () => {
    // Arrange
    const { token } = newToken('apiKey');

    // Act
    const first = hashToken(token);
    const second = hashToken(token);

    // Assert
    expect(first).toBe(second);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(first).not.toContain(token);
  });

  it('when tokens differ, then their hashes differ', () => {
    // Act
    const a = hashToken('gfk_000000000000_a');
    const b = hashToken('gfk_000000000000_b');

    // Assert
    expect(a).not.toBe(b);
  });
});
