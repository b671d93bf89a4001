import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { upgradeToken } from '../../../core/transport/auth-token.js';
import { headerFilename, MAX_MEDIA_BYTES, uploadMedia } from '../../../sidecar/side-routes/media.js';
import { connector, scripted } from './loopback.js';

const SECRET = 'media-secret-abcdef012345';

function token(): string {
  return upgradeToken('gw-m', SECRET, Date.now());
}

test('uploads bytes and returns id, size and a reference URL that serves them back', async (t) => {
  const c = await connector(t, { secretFor: () => SECRET });
  const bytes = Buffer.from('\x89PNG fake image bytes');
  const res = await uploadMedia({
    base: `${c.base}/`,
    token: token(),
    bytes,
    contentType: 'image/png',
    filename: '/home/me/pics/cat.png',
  });
  t.is(res.size, bytes.length);
  t.is(res.url, `${c.base}/relay/media/${res.id}`);
  t.deepEqual(c.routes.calls[0], {
    route: 'media',
    status: 200,
    gatewayId: 'gw-m',
    body: { id: res.id, size: bytes.length, filename: 'cat.png' },
  });
  const back = await fetch(res.url);
  t.is(back.headers.get('content-type'), 'image/png');
  t.deepEqual(Buffer.from(await back.arrayBuffer()), bytes);
});

test('more than 25 MiB is refused locally: nothing is sent', async (t) => {
  const srv = await scripted(t, () => ({ status: 200, body: { id: 'x', size: 1 } }));
  const err = await t.throwsAsync(
    uploadMedia({
      base: srv.base,
      token: token(),
      bytes: Buffer.alloc(MAX_MEDIA_BYTES + 1),
      contentType: 'video/mp4',
    }),
  );
  t.true(err instanceof RelayError);
  t.is((err as RelayError).code, 'CORE_ERR_MEDIA_TOO_LARGE');
  t.is(srv.seen.length, 0);
});

test('a connector 413 maps to CORE_ERR_MEDIA_TOO_LARGE', async (t) => {
  const c = await connector(t, { secretFor: () => SECRET, maxMediaBytes: 10 });
  const err = (await t.throwsAsync(
    uploadMedia({ base: c.base, token: token(), bytes: Buffer.alloc(11), contentType: 'image/png' }),
  )) as RelayError;
  t.is(err.code, 'CORE_ERR_MEDIA_TOO_LARGE');
  t.is(err.details?.status, 413);
});

test('a bad token is refused (401) as CORE_ERR_MEDIA_UPLOAD_FAILED without the token in the message', async (t) => {
  const c = await connector(t, { secretFor: () => 'other-secret' });
  const bad = token();
  const err = (await t.throwsAsync(
    uploadMedia({ base: c.base, token: bad, bytes: Buffer.from('x'), contentType: 'text/plain' }),
  )) as RelayError;
  t.is(err.code, 'CORE_ERR_MEDIA_UPLOAD_FAILED');
  t.is(err.details?.status, 401);
  t.false(err.message.includes(bad));
});

test('sends raw bytes, Content-Type, X-Media-Filename and the bearer', async (t) => {
  const srv = await scripted(t, () => ({ status: 200, body: { id: 'abc', size: 3 } }));
  const tk = token();
  await uploadMedia({
    base: srv.base,
    token: tk,
    bytes: Buffer.from([1, 2, 3]),
    contentType: 'audio/ogg',
    filename: 'v.ogg',
  });
  const seen = srv.seen[0]!;
  t.is(seen.path, '/relay/media');
  t.is(seen.headers['content-type'], 'audio/ogg');
  t.is(seen.headers['x-media-filename'], 'v.ogg');
  t.is(seen.headers.authorization, `Bearer ${tk}`);
  t.deepEqual([...seen.body], [1, 2, 3]);
});

test('an answer without id and size is a bad response', async (t) => {
  const srv = await scripted(t, () => ({ status: 200, body: { ok: true } }));
  const err = (await t.throwsAsync(
    uploadMedia({ base: srv.base, token: token(), bytes: Buffer.from('x'), contentType: 'text/plain' }),
  )) as RelayError;
  t.is(err.details?.kind, 'bad-response');
});

test('headerFilename keeps the base name, strips control characters, encodes non-ASCII', (t) => {
  t.is(headerFilename('C:\\Users\\me\\report.pdf'), 'report.pdf');
  t.is(headerFilename('a\r\nb.txt'), 'ab.txt');
  t.is(headerFilename('café.png'), 'caf%C3%A9.png');
  t.true(headerFilename('n'.repeat(400)).length <= 255);
});
