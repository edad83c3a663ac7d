import { describe, expect, it } from 'vitest';
import { eventFromSqsBody, makeEvent, parseEvent } from './events.ts';

const queued = () =>
  makeEvent(
    'video.queued',
    { videoId: 'V1', priority: 'high', sourceBytes: 10 },
    { id: 'video.queued:V1', source: '/reelay/api', subject: 'V1', tenant: 'acme' },
  );

describe('events', () => {
  it('builds a CloudEvents 1.0 envelope', () => {
    const event = queued();
    expect(event).toMatchObject({
      specversion: '1.0',
      id: 'video.queued:V1',
      source: '/reelay/api',
      type: 'video.queued',
      subject: 'V1',
      datacontenttype: 'application/json',
      tenant: 'acme',
      data: { videoId: 'V1', priority: 'high', sourceBytes: 10 },
    });
    expect(new Date(event.time).toISOString()).toBe(event.time);
  });

  it('refuses to build an event whose data does not match its type', () => {
    expect(() =>
      makeEvent('video.failed', { videoId: 'V1' } as never, { id: 'x', source: '/reelay/worker', subject: 'V1', tenant: 'default' }),
    ).toThrow();
  });

  it('unwraps the SNS envelope and raw delivery alike', () => {
    const event = queued();
    const sns = JSON.stringify({ Type: 'Notification', MessageId: 'm', TopicArn: 'arn', Message: JSON.stringify(event) });
    expect(eventFromSqsBody(sns)).toEqual(event);
    expect(eventFromSqsBody(JSON.stringify(event))).toEqual(event);
  });

  it("an event stored before tenants existed is default's; a malformed tenant is refused", () => {
    const { tenant: _t, ...old } = queued();
    expect(parseEvent(old).tenant).toBe('default');
    expect(() => parseEvent({ ...queued(), tenant: 'Not A Tenant' })).toThrow();
  });

  it('rejects what is not a reelay event', () => {
    expect(() => eventFromSqsBody('{"hello":"world"}')).toThrow();
    expect(() => eventFromSqsBody('not json')).toThrow();
    expect(() => parseEvent({ ...queued(), type: 'video.exploded' })).toThrow();
  });
});
