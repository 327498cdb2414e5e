import { Client, Connection } from '@temporalio/client';
import type { PhotoAttached } from '../../common/case';
import { PHOTO_ATTACHED_SIGNAL } from '../../common/case';
import {
  createRateLimits,
  limitsConfigOf,
  RATE_LIMIT_COLLECTION,
  rateLimitKeyOf,
} from '../../services/limits';
import { createPhoneKeys } from '../../services/phone-keys';
import { consoleClient } from '../support/console-client';
import type { TestApp } from '../support/harness';
import {
  idempotencyKey,
  startTestApp,
  TEST_PASSWORD,
  testConfig,
  waitFor,
} from '../support/harness';
import { phonePhoto, photoFacts } from '../support/photos';
import { temporalAddress, testDataConverter } from '../support/test-stack';

/**
 * Photo attachments end to end on the dev server and FerretDB: upload (raw and multipart),
 * orientation, resizing and metadata removal, the limits, scope, a task completed with photo
 * ids, and the public board showing photos only when the publish step says so.
 */

interface Attachment {
  id: string;
  caseId: string;
  taskId: string | null;
  stepId: string | null;
  uploadedBy: { kind: string; id: string };
  width: number;
  height: number;
  bytes: number;
  url: string;
  thumbnailUrl: string;
}
interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}

let app: TestApp;
type Account = 'worker' | 'colleague' | 'outsider' | 'resident' | 'neighbour';
const tokens = {} as Record<Account, string>;
const userIds = {} as Record<Account, string>;

const org = {
  units: [
    { id: 'ph-street', name: '城关街道', type: 'street', parentId: null },
    { id: 'ph-community', name: '东关社区', type: 'community', parentId: 'ph-street' },
    { id: 'ph-grid', name: '第一网格', type: 'grid', parentId: 'ph-community' },
    { id: 'ph-other', name: '西关社区', type: 'community', parentId: 'ph-street' },
  ],
  people: [
    { id: 'ph-worker', name: '王网格员' },
    { id: 'ph-colleague', name: '李网格员' },
  ],
  posts: [
    { unitId: 'ph-grid', role: 'grid-worker', personId: 'ph-worker' },
    { unitId: 'ph-grid', role: 'grid-worker', personId: 'ph-colleague' },
  ],
};

function definition(key: string, photos: boolean): string {
  return `
key: ${key}
name: 现场拍照核查
starters: [admin, resident, staff]
input:
  fields:
    - { name: description, label: 问题描述, type: text, required: true }
steps:
  - id: inspect
    name: 现场核查
    type: task
    announce: false
    candidates: [{ role: grid-worker, unit: case }]
    form:
      fields:
        - { name: photos, label: 现场照片, type: photo, multiple: true, maxItems: 3, required: true }
    outcomes: [{ id: done, name: 已核查 }]
  - { id: board, name: 核查公示, type: publish, title: 核查结果, show: [description], photos: ${photos} }
  - { id: closed, name: 办结, type: end }
`;
}

beforeAll(async () => {
  // The upload limit's window stretched to an hour (its count as usual), so the budget the
  // console test reads stays put while it runs.
  app = await startTestApp('attachments', {
    config: testConfig('attachments', { RATE_LIMIT_ATTACHMENT_UPLOAD: '120/3600' }),
  });
  for (const [name, roles, units] of [
    ['worker', ['staff'], ['ph-grid']],
    ['colleague', ['staff'], ['ph-grid']],
    ['outsider', ['staff'], ['ph-other']],
    ['resident', ['resident'], []],
    ['neighbour', ['resident'], []],
  ] as const) {
    const created = await app.http<{ id: string }>('POST', '/api/v1/users', {
      token: app.adminKey,
      body: {
        username: `ph-${name}`,
        displayName: name,
        password: TEST_PASSWORD,
        roles,
        unitIds: units,
      },
    });
    expect(created.status).toBe(201);
    userIds[name] = created.body.id;
    const login = await app.http<{ token: string }>('POST', '/api/v1/auth/login', {
      body: { username: `ph-${name}`, password: TEST_PASSWORD },
    });
    tokens[name] = login.body.token;
  }
  const linked = {
    ...org,
    people: org.people.map((p) => ({
      ...p,
      userId: p.id === 'ph-worker' ? userIds.worker : userIds.colleague,
    })),
  };
  expect(
    (await app.http('POST', '/api/v1/org/import', { token: app.adminKey, body: linked })).status,
  ).toBe(200);
  for (const [key, photos] of [
    ['photo-check', true],
    ['photo-check-quiet', false],
  ] as const) {
    const published = await app.http(`POST`, `/api/v1/definitions/${key}/publish`, {
      token: app.adminKey,
      body: { format: 'yaml', source: definition(key, photos) },
    });
    expect(published.status).toBe(201);
  }
});

afterAll(async () => {
  await app?.stop();
});

async function startCase(key = 'photo-check'): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens.resident,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: key, unitId: 'ph-grid', data: { description: '楼道堆放杂物' } },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function inspectTask(caseId: string): Promise<string> {
  const task = await waitFor('the inspect task in the worker’s list', async () => {
    const res = await app.http<{ items: Array<{ id: string; stepId: string }> }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${caseId}`,
      { token: tokens.worker },
    );
    return res.body.items.find((t) => t.stepId === 'inspect');
  });
  return task.id;
}

/** A raw upload (the body is the image) or a multipart one (a file part), as a phone sends it. */
async function upload(
  path: string,
  token: string,
  bytes: Buffer,
  options: { type?: string; multipart?: boolean; filename?: string } = {},
): Promise<{ status: number; body: Attachment & ErrorBody }> {
  const type = options.type ?? 'image/jpeg';
  let init: RequestInit;
  if (options.multipart) {
    const form = new FormData();
    form.append('note', 'from the stairwell');
    form.append(
      'file',
      new Blob([new Uint8Array(bytes)], { type }),
      options.filename ?? 'IMG_0001.jpg',
    );
    init = { method: 'POST', body: form };
  } else {
    init = { method: 'POST', body: new Uint8Array(bytes), headers: { 'content-type': type } };
  }
  const res = await fetch(`${app.api.url}${path}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Attachment & ErrorBody };
}

async function download(
  path: string,
  token?: string,
): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const res = await fetch(`${app.api.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    bytes: Buffer.from(await res.arrayBuffer()),
  };
}

describe('uploading a photo', () => {
  it('when a worker sends a sideways phone photo with GPS, then the stored photo is upright, at most 1600 px, a JPEG without EXIF or GPS, with a 320 px thumbnail', async () => {
    // Arrange
    const caseId = await startCase();
    await inspectTask(caseId);
    const original = await phonePhoto({ width: 3000, height: 2000 });
    const before = await photoFacts(original);
    expect(before.gps).toBe(true);
    expect(before.orientation).toBe(6);

    // Act
    const res = await upload(`/api/v1/cases/${caseId}/attachments`, tokens.worker, original);

    // Assert
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      caseId,
      taskId: null,
      uploadedBy: { kind: 'user', id: userIds.worker },
      width: 1067,
      height: 1600,
    });
    const image = await download(res.body.url, tokens.worker);
    expect(image.status).toBe(200);
    expect(image.type).toBe('image/jpeg');
    const stored = await photoFacts(image.bytes);
    expect(stored).toMatchObject({ format: 'jpeg', width: 1067, height: 1600, gps: false });
    expect(stored.exif).toBeUndefined();
    expect(stored.xmp).toBeUndefined();
    expect(stored.iptc).toBeUndefined();
    expect(stored.orientation).toBeUndefined();
    expect(image.bytes.includes(Buffer.from('PhotoTestCam'))).toBe(false);
    const thumbnail = await photoFacts(
      (await download(res.body.thumbnailUrl, tokens.worker)).bytes,
    );
    expect(thumbnail).toMatchObject({ width: 213, height: 320, gps: false });
    expect(thumbnail.exif).toBeUndefined();
  });

  it('when the photo is a few hundred KB, then FerretDB stores and returns its bytes exactly', async () => {
    // Arrange: noise compresses badly, so the stored JPEG stays large
    const caseId = await startCase();
    await inspectTask(caseId);
    const original = await phonePhoto({ width: 1600, height: 1200, noise: true });

    // Act
    const res = await upload(`/api/v1/cases/${caseId}/attachments`, tokens.worker, original);

    // Assert
    expect(res.status).toBe(201);
    expect(res.body.bytes).toBeGreaterThan(300_000);
    const served = await download(res.body.url, tokens.worker);
    expect(served.bytes.length).toBe(res.body.bytes);
    const blob = await app.db.models.AttachmentBlob.findById(`${res.body.id}:image`);
    expect(Buffer.compare(Buffer.from(blob!.data), served.bytes)).toBe(0);
    // The listing reads metadata only: its documents carry no bytes.
    const listed = await app.db.models.Attachment.findById(res.body.id).lean();
    expect(Object.keys(listed!)).not.toContain('data');
  });

  it('when a phone form sends the photo as multipart from the task, then it is stored for that task and step', async () => {
    // Arrange
    const caseId = await startCase();
    const taskId = await inspectTask(caseId);

    // Act
    const res = await upload(
      `/api/v1/tasks/${encodeURIComponent(taskId)}/attachments`,
      tokens.worker,
      await phonePhoto({ width: 800, height: 600 }),
      { multipart: true },
    );

    // Assert
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ caseId, taskId, stepId: 'inspect', width: 600, height: 800 });
  });

  it('when the upload is not an image, too large, or missing, then it is refused with 415, 413 or 400 naming the problem', async () => {
    // Arrange
    const caseId = await startCase();
    await inspectTask(caseId);
    const path = `/api/v1/cases/${caseId}/attachments`;

    // Act
    const text = await upload(path, tokens.worker, Buffer.from('not a photo'), {
      type: 'text/plain',
    });
    const textPart = await upload(path, tokens.worker, Buffer.from('not a photo'), {
      type: 'text/plain',
      multipart: true,
      filename: 'notes.txt',
    });
    const garbage = await upload(path, tokens.worker, Buffer.from('GIF89a but not really'), {
      type: 'image/jpeg',
    });
    const svg = await upload(
      path,
      tokens.worker,
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
      {
        type: 'image/svg+xml',
      },
    );
    const huge = await upload(path, tokens.worker, Buffer.alloc(10 * 1024 * 1024 + 1, 0xff));
    const hugePart = await upload(path, tokens.worker, Buffer.alloc(10 * 1024 * 1024 + 1, 0xff), {
      multipart: true,
    });
    const noFile = await fetch(`${app.api.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.worker}` },
      body: (() => {
        const form = new FormData();
        form.append('note', 'forgot the photo');
        return form;
      })(),
    });

    // Assert
    expect(text.status).toBe(415);
    expect(text.body.error.message).toMatch(/multipart\/form-data/);
    expect(textPart.status).toBe(415);
    expect(textPart.body.error.message).toMatch(/must be an image/);
    expect(garbage.status).toBe(415);
    expect(garbage.body.error.message).toMatch(/could not be read as an image/);
    expect(svg.status).toBe(415);
    expect(huge.status).toBe(413);
    expect(huge.body.error.message).toMatch(/10 MB/);
    expect(hugePart.status).toBe(413);
    expect(noFile.status).toBe(400);
    expect(((await noFile.json()) as ErrorBody).error.details).toEqual([
      expect.objectContaining({ path: 'body.image' }),
    ]);
    const listed = await app.http<{ items: Attachment[] }>('GET', `${path}`, {
      token: tokens.worker,
    });
    expect(listed.body.items).toEqual([]);
  });

  it('when a case has 20 photos, then the 21st is refused (409) naming the limit', async () => {
    // Arrange
    const caseId = await startCase();
    await inspectTask(caseId);
    const small = await phonePhoto({ width: 40, height: 30 });
    for (let i = 0; i < 20; i++) {
      const res = await upload(`/api/v1/cases/${caseId}/attachments`, tokens.worker, small);
      expect(res.status).toBe(201);
    }

    // Act
    const over = await upload(`/api/v1/cases/${caseId}/attachments`, tokens.worker, small);

    // Assert
    expect(over.status).toBe(409);
    expect(over.body.error.message).toMatch(/20 photos/);
  });
});

describe('who may add and see photos', () => {
  it('when someone outside the case’s scope asks, then the case and its photos do not exist for them; the requester and the grid see them', async () => {
    // Arrange
    const caseId = await startCase();
    await inspectTask(caseId);
    const photo = await phonePhoto({ width: 400, height: 300 });
    const stored = await upload(`/api/v1/cases/${caseId}/attachments`, tokens.worker, photo);
    expect(stored.status).toBe(201);

    // Act
    const outsiderUpload = await upload(
      `/api/v1/cases/${caseId}/attachments`,
      tokens.outsider,
      photo,
    );
    const outsiderRead = await download(stored.body.url, tokens.outsider);
    const outsiderThumb = await download(stored.body.thumbnailUrl, tokens.outsider);
    const outsiderList = await app.http('GET', `/api/v1/cases/${caseId}/attachments`, {
      token: tokens.outsider,
    });
    const neighbourRead = await download(stored.body.url, tokens.neighbour);
    const anonymousRead = await download(stored.body.url);
    const residentRead = await download(stored.body.url, tokens.resident);
    const residentUpload = await upload(
      `/api/v1/cases/${caseId}/attachments`,
      tokens.resident,
      photo,
    );
    const caseView = await app.http<{ attachments: Attachment[] }>(
      'GET',
      `/api/v1/cases/${caseId}`,
      { token: tokens.resident },
    );

    // Assert
    expect(outsiderUpload.status).toBe(404);
    expect(outsiderRead.status).toBe(404);
    expect(outsiderThumb.status).toBe(404);
    expect(outsiderList.status).toBe(404);
    expect(neighbourRead.status).toBe(404);
    expect(anonymousRead.status).toBe(401);
    expect(residentRead.status).toBe(200);
    expect(residentUpload.status).toBe(201);
    expect(caseView.body.attachments.map((a) => [a.id, a.uploadedBy.id])).toEqual([
      [stored.body.id, userIds.worker],
      [residentUpload.body.id, userIds.resident],
    ]);
  });
});

describe('photos on the case timeline', () => {
  interface TimelineEntry {
    seq: number;
    type: string;
    at: string;
    actor: { kind: string; id: string };
    stepId?: string;
    detail?: Record<string, unknown>;
  }
  const photosOnTimeline = async (caseId: string, count: number) =>
    waitFor(`${count} photos on the case timeline`, async () => {
      const res = await app.http<{ timeline: TimelineEntry[] }>('GET', `/api/v1/cases/${caseId}`, {
        token: tokens.worker,
      });
      const added = res.body.timeline.filter((e) => e.type === 'attachment.added');
      return added.length >= count ? added : undefined;
    });

  it('when photos are attached to the case and from its task, then the stored timeline records each once by its ids, a repeated notice adds nothing, and the console shows each photo once', async () => {
    // Arrange
    const caseId = await startCase();
    const taskId = await inspectTask(caseId);
    const photo = await phonePhoto({ width: 400, height: 300 });
    const temporal = new Client({
      connection: await Connection.connect({ address: temporalAddress() }),
      namespace: app.config.TEMPORAL_NAMESPACE,
      dataConverter: testDataConverter(),
    });

    try {
      // Act: one photo on the case, one from the task; then the case's notice sent again (a
      // retried signal), then a third photo, whose entry comes after the repeat was handled
      const onCase = await upload(`/api/v1/cases/${caseId}/attachments`, tokens.worker, photo);
      const onTask = await upload(
        `/api/v1/tasks/${encodeURIComponent(taskId)}/attachments`,
        tokens.worker,
        photo,
        { multipart: true },
      );
      await photosOnTimeline(caseId, 2);
      const repeat: PhotoAttached = {
        attachmentId: onCase.body.id,
        taskId: null,
        stepId: null,
        actor: { kind: 'user', id: userIds.worker },
      };
      await temporal.workflow.getHandle(caseId).signal(PHOTO_ATTACHED_SIGNAL, repeat);
      const third = await upload(`/api/v1/cases/${caseId}/attachments`, tokens.resident, photo);
      const entries = await photosOnTimeline(caseId, 3);
      const web = consoleClient(app.api.url);
      web.useSession(tokens.worker);
      const page = await web.get(`/console/cases/${encodeURIComponent(caseId)}`);

      // Assert: ids only (no bytes, no coordinates), who attached it, the task's step
      expect(entries).toEqual([
        {
          seq: expect.any(Number) as number,
          type: 'attachment.added',
          at: expect.any(String) as string,
          actor: { kind: 'user', id: userIds.worker },
          detail: { attachment: onCase.body.id },
        },
        {
          seq: expect.any(Number) as number,
          type: 'attachment.added',
          at: expect.any(String) as string,
          actor: { kind: 'user', id: userIds.worker },
          stepId: 'inspect',
          detail: { attachment: onTask.body.id, task: taskId },
        },
        {
          seq: expect.any(Number) as number,
          type: 'attachment.added',
          at: expect.any(String) as string,
          actor: { kind: 'user', id: userIds.resident },
          detail: { attachment: third.body.id },
        },
      ]);
      // The page: each photo in the photo panel and once on the timeline, not merged in again
      expect(page.status).toBe(200);
      for (const id of [onCase.body.id, onTask.body.id, third.body.id]) {
        expect(page.html.split(`data-photo="${id}"`)).toHaveLength(3);
      }
    } finally {
      await temporal.connection.close();
    }
  });
});

describe('completing a task with photos', () => {
  it('when the form names photos of another case or a colleague’s photo, then 422 names each; with the worker’s own, the task completes and the case lists it with its task', async () => {
    // Arrange
    const caseId = await startCase();
    const taskId = await inspectTask(caseId);
    const otherCase = await startCase();
    await inspectTask(otherCase);
    const photo = await phonePhoto({ width: 400, height: 300 });
    const foreign = await upload(`/api/v1/cases/${otherCase}/attachments`, tokens.worker, photo);
    const colleagues = await upload(`/api/v1/cases/${caseId}/attachments`, tokens.colleague, photo);
    const own = await upload(
      `/api/v1/tasks/${encodeURIComponent(taskId)}/attachments`,
      tokens.worker,
      photo,
    );
    expect([foreign.status, colleagues.status, own.status]).toEqual([201, 201, 201]);
    const claim = await app.http('POST', `/api/v1/tasks/${encodeURIComponent(taskId)}/claim`, {
      token: tokens.worker,
      body: {},
    });
    expect(claim.status).toBe(200);
    const complete = (photos: unknown) =>
      app.http<ErrorBody>('POST', `/api/v1/tasks/${encodeURIComponent(taskId)}/complete`, {
        token: tokens.worker,
        body: { outcome: 'done', form: { photos } },
      });

    // Act
    const wrong = await complete([
      foreign.body.id,
      colleagues.body.id,
      'att-000000000000000000000000',
    ]);
    const malformed = await complete(['IMG_0001.jpg']);
    const none = await complete([]);
    const done = await complete([own.body.id]);

    // Assert
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.details).toEqual([
      { path: 'form.photos[0]', message: `no photo "${foreign.body.id}" on this case` },
      {
        path: 'form.photos[1]',
        message: `photo "${colleagues.body.id}" was attached by someone else, not from this task: attach your own`,
      },
      { path: 'form.photos[2]', message: 'no photo "att-000000000000000000000000" on this case' },
    ]);
    expect(malformed.status).toBe(422);
    expect(JSON.stringify(malformed.body.error.details)).toMatch(/form\.photos\[0\]/);
    expect(none.status).toBe(422);
    expect(done.status).toBe(200);
    const view = await waitFor('the case closed', async () => {
      const res = await app.http<{ status: string; attachments: Attachment[] }>(
        'GET',
        `/api/v1/cases/${caseId}`,
        { token: tokens.worker },
      );
      return res.body.status === 'closed' ? res.body : undefined;
    });
    expect(view.attachments.find((a) => a.id === own.body.id)).toMatchObject({
      taskId,
      stepId: 'inspect',
      uploadedBy: { id: userIds.worker },
    });
    // The case is closed: no more photos.
    const late = await upload(`/api/v1/cases/${caseId}/attachments`, tokens.worker, photo);
    expect(late.status).toBe(409);
  });
});

describe('the public board', () => {
  async function publishedWith(key: string): Promise<{ caseId: string; photoId: string }> {
    const caseId = await startCase(key);
    const taskId = await inspectTask(caseId);
    const own = await upload(
      `/api/v1/tasks/${encodeURIComponent(taskId)}/attachments`,
      tokens.worker,
      await phonePhoto({ width: 600, height: 400 }),
    );
    await app.http('POST', `/api/v1/tasks/${encodeURIComponent(taskId)}/claim`, {
      token: tokens.worker,
      body: {},
    });
    const done = await app.http('POST', `/api/v1/tasks/${encodeURIComponent(taskId)}/complete`, {
      token: tokens.worker,
      body: { outcome: 'done', form: { photos: [own.body.id] } },
    });
    expect(done.status).toBe(200);
    await waitFor('the case on the board', async () => {
      const res = await app.http('GET', `/api/v1/public/board/${caseId}`);
      return res.status === 200;
    });
    return { caseId, photoId: own.body.id };
  }

  it('when the publish step says photos: true, then the board lists the photos and serves them without sign-in, without metadata', async () => {
    // Arrange
    const { caseId, photoId } = await publishedWith('photo-check');

    // Act
    const item = await app.http<{
      photos: Array<{ id: string; url: string; thumbnailUrl: string }>;
    }>('GET', `/api/v1/public/board/${caseId}`);
    const photo = await download(item.body.photos[0]!.url);
    const thumbnail = await download(item.body.photos[0]!.thumbnailUrl);

    // Assert
    expect(item.body.photos.map((p) => p.id)).toEqual([photoId]);
    expect(photo.status).toBe(200);
    const facts = await photoFacts(photo.bytes);
    expect(facts.gps).toBe(false);
    expect(facts.exif).toBeUndefined();
    expect(thumbnail.status).toBe(200);
  });

  it('when the publish step does not say photos, or the case is not published, then no photo reaches the board', async () => {
    // Arrange
    const quiet = await publishedWith('photo-check-quiet');
    const shown = await publishedWith('photo-check');
    const unpublished = await startCase();
    await inspectTask(unpublished);
    const hidden = await upload(
      `/api/v1/cases/${unpublished}/attachments`,
      tokens.worker,
      await phonePhoto({ width: 60, height: 40 }),
    );

    // Act
    const item = await app.http<{ photos: unknown[] }>(
      'GET',
      `/api/v1/public/board/${quiet.caseId}`,
    );
    const quietPhoto = await download(
      `/api/v1/public/board/${quiet.caseId}/photos/${quiet.photoId}`,
    );
    const unpublishedPhoto = await download(
      `/api/v1/public/board/${unpublished}/photos/${hidden.body.id}`,
    );
    // A published case's path with another case's photo.
    const smuggled = await download(
      `/api/v1/public/board/${shown.caseId}/photos/${hidden.body.id}/thumbnail`,
    );

    // Assert
    expect(item.status).toBe(200);
    expect(item.body.photos).toEqual([]);
    expect(quietPhoto.status).toBe(404);
    expect(unpublishedPhoto.status).toBe(404);
    expect(smuggled.status).toBe(404);
  });
});

describe('the console', () => {
  it('when a phone form sends a photo and a file that is not one, then the page names the refused file on the field and keeps the photo; sent again, the task completes with it', async () => {
    // Arrange
    const caseId = await startCase();
    const taskId = await inspectTask(caseId);
    await app.http('POST', `/api/v1/tasks/${encodeURIComponent(taskId)}/claim`, {
      token: tokens.worker,
      body: {},
    });
    const browser = consoleClient(app.api.url);
    browser.useSession(tokens.worker);
    const taskPage = await browser.get(`/console/tasks/${encodeURIComponent(taskId)}`);
    expect(taskPage.html).toMatch(
      /<input id="f-form-photos" name="photos" type="file" accept="image\/\*" capture="environment" multiple required>/,
    );
    expect(taskPage.html).toContain('enctype="multipart/form-data"');
    const photo = await phonePhoto({ width: 800, height: 600 });

    // Act
    const refused = await browser.postMultipart(
      `/console/tasks/${encodeURIComponent(taskId)}/complete`,
      { outcome: 'done' },
      [
        { field: 'photos', filename: 'IMG_1.jpg', type: 'image/jpeg', bytes: photo },
        { field: 'photos', filename: 'notes.txt', type: 'text/plain', bytes: Buffer.from('hi') },
      ],
    );
    const kept = /<input type="hidden" name="photos" value="(att-[0-9a-f]{24})">/.exec(
      refused.html,
    )?.[1];
    const completed = await browser.postMultipart(
      `/console/tasks/${encodeURIComponent(taskId)}/complete`,
      { outcome: 'done', photos: kept ?? '' },
      [],
    );

    // Assert
    expect(refused.status).toBe(422);
    expect(refused.html).toMatch(
      /<p class="error" id="f-form-photos-error">A photo must be an image/,
    );
    expect(kept).toBeDefined();
    expect(completed.status).toBe(303);
    expect(completed.location).toBe('/console/inbox?done=complete');
    const view = await app.http<{ attachments: Attachment[] }>('GET', `/api/v1/cases/${caseId}`, {
      token: tokens.worker,
    });
    expect(view.body.attachments.map((a) => [a.id, a.taskId])).toEqual([[kept, taskId]]);
  });

  it('when someone outside the case’s scope opens a photo page, then it is not found; the worker sees the case’s thumbnails', async () => {
    // Arrange
    const caseId = await startCase();
    await inspectTask(caseId);
    const stored = await upload(
      `/api/v1/cases/${caseId}/attachments`,
      tokens.worker,
      await phonePhoto({ width: 80, height: 60 }),
    );
    const outsider = consoleClient(app.api.url);
    outsider.useSession(tokens.outsider);
    const worker = consoleClient(app.api.url);
    worker.useSession(tokens.worker);

    // Act
    const denied = await outsider.get(`/console/attachments/${stored.body.id}/thumbnail`);
    const thumbnail = await worker.get(`/console/attachments/${stored.body.id}/thumbnail`);
    const casePage = await worker.get(`/console/cases/${caseId}`);

    // Assert
    expect(denied.status).toBe(404);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/jpeg');
    expect(casePage.html).toContain(
      `<li data-photo="${stored.body.id}"><a href="/console/attachments/${stored.body.id}"><img src="/console/attachments/${stored.body.id}/thumbnail"`,
    );
    expect(casePage.html).toMatch(new RegExp(`<li data-photo="${stored.body.id}"><time>`));
  });

  it('when a phone form brings more photos than the upload limit has left, then the page is refused with the API’s 429 and no photo is kept', async () => {
    // Arrange: the colleague's account one upload short of its limit (the API's counter).
    const caseId = await startCase();
    const taskId = await inspectTask(caseId);
    await app.http('POST', `/api/v1/tasks/${encodeURIComponent(taskId)}/claim`, {
      token: tokens.colleague,
      body: {},
    });
    const rate = app.config.RATE_LIMIT_ATTACHMENT_UPLOAD!;
    const keys = createPhoneKeys(app.config.PHONE_KEY_SECRET!);
    const counterKey = `attachment-upload/account:${rateLimitKeyOf(keys)(`user:${userIds.colleague}`)}`;
    const counter = await app.db.connection.db!.collection(RATE_LIMIT_COLLECTION).findOne({
      key: counterKey,
      expire: { $gt: new Date() },
    });
    const limits = createRateLimits({
      db: app.db.connection.db!,
      config: limitsConfigOf(app.config),
      keys,
    });
    const spent = (counter?.points as number | undefined) ?? 0;
    for (let i = spent; i < rate.points - 1; i++) {
      await limits.consume('attachment-upload', { account: `user:${userIds.colleague}` });
    }
    const browser = consoleClient(app.api.url);
    browser.useSession(tokens.colleague);
    await browser.get(`/console/tasks/${encodeURIComponent(taskId)}`);
    const photo = await phonePhoto({ width: 80, height: 60 });

    // Act
    const refused = await browser.postMultipart(
      `/console/tasks/${encodeURIComponent(taskId)}/complete`,
      { outcome: 'done' },
      [
        { field: 'photos', filename: 'IMG_1.jpg', type: 'image/jpeg', bytes: photo },
        { field: 'photos', filename: 'IMG_2.jpg', type: 'image/jpeg', bytes: photo },
      ],
    );
    const api = await upload(`/api/v1/cases/${caseId}/attachments`, tokens.colleague, photo);

    // Assert
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(api.status).toBe(429);
    const limitText = `Rate limit "attachment-upload" reached: ${rate.points} requests per ${rate.seconds} s per account; try again in`;
    expect(api.body.error.message.startsWith(limitText)).toBe(true);
    expect(refused.html).toContain(limitText.replaceAll('"', '&quot;'));
    const view = await app.http<{ attachments: Attachment[]; status: string }>(
      'GET',
      `/api/v1/cases/${caseId}`,
      { token: tokens.colleague },
    );
    expect(view.body.attachments).toEqual([]);
    expect(view.body.status).toBe('open');
  });
});
