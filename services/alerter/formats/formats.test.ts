import { describe, expect, it } from 'vitest';
import { type Page, pageId, timelineLink } from '../page.js';
import { makeAlert, makeStatus } from '../testing.js';
import { pagerDutyBody } from './pagerduty.js';
import { slackBody } from './slack.js';
import { webhookBody } from './webhook.js';

function page(over: Partial<Page> = {}): Page {
  const alert = makeAlert({ severity: 'critical', title: 'Secret sent <out>', dedup_key: 'dk' });
  return {
    id: pageId('d', 'dk', alert.alert_id),
    destination: 'd',
    dedup_key: 'dk',
    status: 'firing',
    alert,
    alert_ids: [alert.alert_id],
    count: 3,
    sequence: 1,
    total: 3,
    first_seen: alert.created_at,
    last_seen: alert.created_at,
    link: 'https://trail.example/tasks/acme/task-1',
    ...over,
  };
}

describe('formats', () => {
  it('webhook: versioned body with the alert, link and grouping facts', () => {
    const p = page();
    const body = webhookBody(p) as { kind: string; group: { count: number }; alert: { link: string } };
    expect(body).toMatchObject({ version: 1, kind: 'agenttrail.alert', delivery_id: p.id });
    expect(body.group.count).toBe(3);
    expect(body.alert.link).toBe(p.link);
    expect((webhookBody(page({ status: 'resolved' })) as { kind: string }).kind).toBe(
      'agenttrail.alert.resolved',
    );
  });

  it('slack: severity, escaped title with count, explanation, evidence and a link button', () => {
    const body = slackBody(page()) as { text: string; blocks: Array<Record<string, unknown>> };
    expect(body.text).toBe('[CRITICAL] Secret sent <out> (×3)');
    const json = JSON.stringify(body.blocks);
    expect(json).toContain('Secret sent <out>'); // plain_text header is not mrkdwn
    expect(json).toContain('paste.example');
    expect(json).toContain('`evt-1`');
    expect(body.blocks.at(-1)).toMatchObject({ type: 'actions' });
    expect(JSON.stringify(slackBody(page({ link: undefined })).blocks)).not.toContain('actions');
  });

  it('pagerduty: trigger with dedup_key and mapped severity; resolve when resolved', () => {
    const body = pagerDutyBody(page(), 'rk') as Record<string, unknown> & {
      payload: Record<string, unknown>;
    };
    expect(body).toMatchObject({ routing_key: 'rk', event_action: 'trigger', dedup_key: 'dk' });
    expect(body.payload).toMatchObject({
      severity: 'critical',
      class: 'scope.egress.out_of_scope',
      summary: 'Secret sent <out> (×3)',
    });
    expect(body.links).toEqual([{ href: 'https://trail.example/tasks/acme/task-1', text: 'Task timeline' }]);
    const high = pagerDutyBody(page({ alert: makeAlert({ severity: 'high' }) }), 'rk') as {
      payload: { severity: string };
    };
    expect(high.payload.severity).toBe('error');
    expect(pagerDutyBody(page({ status: 'resolved' }), 'rk')).toEqual({
      routing_key: 'rk',
      event_action: 'resolve',
      dedup_key: 'dk',
    });
  });

  it('builds the timeline link from the base URL, encoding ids; the alert link wins', () => {
    const a = makeAlert({ tenant: 'acme', task_id: 'task/1' });
    expect(timelineLink(a, 'https://trail.example/')).toBe(
      'https://trail.example/v1/tasks/task%2F1?tenant=acme',
    );
    expect(timelineLink(a, undefined)).toBeUndefined();
    expect(timelineLink(makeAlert({ link: 'https://x.example/t' }), 'https://y')).toBe('https://x.example/t');
  });

  it('status follow-ups: PagerDuty acknowledge/resolve by dedup key, Slack and webhook say who and why', () => {
    const alert = makeAlert({ severity: 'critical', title: 'Secret sent', dedup_key: 'dk' });
    const ack = makeStatus(alert, 'alert.acknowledged', { reason: 'on it <now>\nsecond line' });
    const res = makeStatus(alert, 'alert.resolved', { by: { key_id: 'key-9', role: 'admin' } });
    const follow = (change: typeof ack, status: Page['status']) =>
      page({ alert, status, change, record_ids: [change.status_id] });
    expect(pagerDutyBody(follow(ack, 'acknowledged'), 'rk')).toEqual({
      routing_key: 'rk',
      event_action: 'acknowledge',
      dedup_key: 'dk',
    });
    expect(pagerDutyBody(follow(res, 'resolved'), 'rk')).toMatchObject({ event_action: 'resolve' });

    const slack = slackBody(follow(ack, 'acknowledged')) as { text: string; blocks: unknown[] };
    expect(slack.text).toBe('ACKNOWLEDGED: [CRITICAL] Secret sent (×3)');
    expect(JSON.stringify(slack.blocks[1])).toContain('Acknowledged by `key-1` (responder)');
    expect(JSON.stringify(slack.blocks[1])).toContain('on it &lt;now&gt;\\n>second line');
    expect((slackBody(follow(res, 'resolved')) as { text: string }).text).toMatch(/^RESOLVED: /);

    const hook = webhookBody(follow(res, 'resolved')) as Record<string, unknown>;
    expect(hook.kind).toBe('agenttrail.alert.resolved');
    expect(hook.status_change).toEqual({
      type: 'alert.resolved',
      status_id: res.status_id,
      by: { key_id: 'key-9', role: 'admin' },
      reason: 'credential revoked',
      at: res.at,
    });
    expect((webhookBody(follow(ack, 'acknowledged')) as { kind: string }).kind).toBe(
      'agenttrail.alert.acknowledged',
    );
    expect(webhookBody(page())).not.toHaveProperty('status_change');
  });
});
