import test from 'ava';
import { decodeForm, mediaTypeOf } from '../../../plugins/twilio/decode-form.js';
import { formToEvent, mediaKind, mediaOf } from '../../../plugins/twilio/form-to-event.js';

const FORM: [string, string][] = [['Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8']];

function eventOf(fields: Record<string, string>, profile?: string) {
  const outcome = formToEvent(new URLSearchParams(fields), profile);
  if (!('event' in outcome)) throw new Error(`dropped: ${outcome.drop}`);
  return outcome.event as Record<string, unknown> & { source: Record<string, unknown> };
}

test('content type: parameters and case are ignored; another type is not a form', (t) => {
  t.is(mediaTypeOf(FORM), 'application/x-www-form-urlencoded');
  t.is(mediaTypeOf([]), undefined);
  t.true(decodeForm(FORM, Buffer.from('a=1')).ok);
  t.like(decodeForm([['content-type', 'application/json']], Buffer.from('a=1')), {
    ok: false,
    problem: 'content_type',
  });
  t.like(decodeForm([['content-type', 'text/plain']], Buffer.from('a=1')), {
    ok: false,
    problem: 'content_type',
  });
});

test('no content type: parsed, classification decides; invalid UTF-8 and empty are not forms', (t) => {
  t.true(decodeForm([], Buffer.from('MessageSid=SM1&From=%2B1')).ok);
  t.like(decodeForm(FORM, Buffer.from([0x42, 0x6f, 0x64, 0x79, 0x3d, 0xff])), {
    ok: false,
    problem: 'not_utf8',
  });
  t.like(decodeForm(FORM, Buffer.from('  ')), { ok: false, problem: 'empty' });
});

test('decoding uses the standard parser: +, percent escapes, UTF-8', (t) => {
  const decoded = decodeForm(FORM, Buffer.from('Body=Ol%C3%A1+mundo%21+a%2Bb%26c%3Dd'));
  if (!decoded.ok) return t.fail();
  t.is(decoded.params.get('Body'), 'Olá mundo! a+b&c=d');
});

test('SMS: text, dm source keyed by From, scope = To, message id', (t) => {
  const event = eventOf(
    { MessageSid: 'SM1', From: '+15551234', To: '+15550100', Body: 'hi', ProfileName: '' },
    'ops',
  );
  t.deepEqual(event, {
    text: 'hi',
    message_type: 'text',
    message_id: 'SM1',
    source: {
      platform: 'sms',
      chat_type: 'dm',
      chat_id: '+15551234',
      user_id: '+15551234',
      user_name: null,
      message_id: 'SM1',
      profile: 'ops',
      scope_id: '+15550100',
    },
  });
});

test('a message without Body has empty text', (t) => {
  t.is(eventOf({ MessageSid: 'SM1', From: '+1' }).text, '');
});

test('WhatsApp: platform from the From prefix, ProfileName as user name', (t) => {
  t.like(
    eventOf({ MessageSid: 'SM2', From: 'whatsapp:+55', To: 'whatsapp:+1', Body: 'oi', ProfileName: 'Ana' })
      .source,
    {
      platform: 'whatsapp',
      chat_id: 'whatsapp:+55',
      user_name: 'Ana',
      scope_id: 'whatsapp:+1',
    },
  );
});

test('MMS: media in order, kind by MIME, message type from the first attachment', (t) => {
  const event = eventOf({
    MessageSid: 'MM1',
    From: '+1',
    Body: '',
    NumMedia: '3',
    MediaUrl0: 'https://m/0',
    MediaContentType0: 'audio/ogg',
    MediaUrl1: 'https://m/1',
    MediaContentType1: 'image/png',
    MediaUrl2: 'https://m/2',
  });
  t.is(event.message_type, 'audio');
  t.deepEqual(event.media_urls, ['https://m/0', 'https://m/1', 'https://m/2']);
  t.deepEqual(event.media, [
    { url: 'https://m/0', mime: 'audio/ogg', kind: 'audio' },
    { url: 'https://m/1', mime: 'image/png', kind: 'image' },
    { url: 'https://m/2', mime: null, kind: 'document' },
  ]);
});

test('media kinds; NumMedia is clamped and missing URLs skipped', (t) => {
  t.deepEqual(
    ['image/jpeg', 'video/mp4', 'audio/mpeg', 'application/pdf', 'text/vcard', '', null].map(mediaKind),
    ['image', 'video', 'audio', 'document', 'document', 'document', 'document'],
  );
  const many = new URLSearchParams({ NumMedia: '1000000', MediaUrl3: 'u3', MediaUrl20: 'u20' });
  t.deepEqual(
    mediaOf(many).map((m) => m.url),
    ['u3'],
  );
  t.deepEqual(mediaOf(new URLSearchParams({ NumMedia: 'abc', MediaUrl0: 'u' })), []);
});

test('WhatsApp quick replies: ButtonText is the text; a / payload makes a command', (t) => {
  const command = eventOf({
    MessageSid: 'SM3',
    From: 'whatsapp:+5',
    Body: 'Approve',
    ButtonText: 'Approve',
    ButtonPayload: '/approve',
  });
  t.like(command, { text: 'Approve', message_type: 'command', button_payload: '/approve' });
  const plain = eventOf({
    MessageSid: 'SM4',
    From: 'whatsapp:+5',
    Body: 'x',
    ButtonText: 'Yes please',
    ButtonPayload: 'yes',
  });
  t.like(plain, { text: 'Yes please', message_type: 'text' });
});

test('voice: SpeechResult, else Digits; message id CallSid:SequenceNumber (default 0)', (t) => {
  const speech = eventOf({
    CallSid: 'CA1',
    From: '+1',
    To: '+2',
    SpeechResult: 'book',
    CallStatus: 'in-progress',
    SequenceNumber: '4',
  });
  t.like(speech, {
    text: 'book',
    message_id: 'CA1:4',
    source: { platform: 'voice', chat_id: '+1', chat_type: 'dm', scope_id: '+2' },
  });
  const digits = eventOf({ CallSid: 'CA1', From: '+1', Digits: '42', SpeechResult: '' });
  t.like(digits, { text: '42', message_id: 'CA1:0' });
});

test('status callbacks make no event, even with MessageSid and From', (t) => {
  const receipt = new URLSearchParams({
    MessageSid: 'SM1',
    MessageStatus: 'delivered',
    From: '+1',
    To: '+2',
  });
  t.like(formToEvent(receipt), { drop: 'status_callback' });
  t.like(formToEvent(new URLSearchParams({ CallSid: 'CA1', CallStatus: 'completed', From: '+1' })), {
    drop: 'status_callback',
  });
  // silence on a gather is no content either
  t.like(
    formToEvent(
      new URLSearchParams({ CallSid: 'CA1', CallStatus: 'in-progress', From: '+1', SpeechResult: '' }),
    ),
    {
      drop: 'status_callback',
    },
  );
});

test('anything else is malformed', (t) => {
  const samples: Record<string, string>[] = [
    {},
    { x: '1' },
    { '{"x":1}': '' },
    { MessageSid: 'SM1' },
    { From: '+1', Body: 'hi' },
    { CallSid: 'CA1', From: '+1' },
  ];
  for (const fields of samples) {
    t.like(formToEvent(new URLSearchParams(fields)), { drop: 'malformed' }, JSON.stringify(fields));
  }
});
