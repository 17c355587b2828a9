import { describe, expect, it } from 'vitest';
import { makeAlert, makeStatus } from '../services/alerter/testing.js';
import { AlertStatusMessage, AlertStatusReason, alertStatusId, currentAlertStatus } from './alert-status.js';

describe('alert status records', () => {
  it('status_id is fixed per tenant, alert and type', () => {
    const id = 'a'.repeat(32);
    expect(alertStatusId('acme', id, 'alert.resolved')).toBe(alertStatusId('acme', id, 'alert.resolved'));
    expect(alertStatusId('acme', id, 'alert.resolved')).toMatch(/^[0-9a-f]{32}$/);
    expect(alertStatusId('acme', id, 'alert.acknowledged')).not.toBe(
      alertStatusId('acme', id, 'alert.resolved'),
    );
    expect(alertStatusId('globex', id, 'alert.resolved')).not.toBe(
      alertStatusId('acme', id, 'alert.resolved'),
    );
  });

  it('wants a reason: not blank, bounded, storable', () => {
    expect(AlertStatusReason.safeParse('credential revoked').success).toBe(true);
    for (const bad of ['', '  \n ', 'x'.repeat(1025), 'half a pair \ud83d'])
      expect(AlertStatusReason.safeParse(bad).success, JSON.stringify(bad.slice(0, 20))).toBe(false);
  });

  it('a message is the record plus its alert; unknown fields are refused', () => {
    const alert = makeAlert();
    const record = makeStatus(alert);
    expect(AlertStatusMessage.parse({ ...record, alert })).toEqual({ ...record, alert });
    expect(AlertStatusMessage.safeParse({ ...record, alert, extra: 1 }).success).toBe(false);
    expect(
      AlertStatusMessage.safeParse({ ...record, by: { key_id: 'k', role: 'root' }, alert }).success,
    ).toBe(false);
  });

  it('current status: resolved wins, then acknowledged, else firing', () => {
    const ack = { type: 'alert.acknowledged' };
    const res = { type: 'alert.resolved' };
    expect(currentAlertStatus('firing', [])).toBe('firing');
    expect(currentAlertStatus('firing', [ack])).toBe('acknowledged');
    expect(currentAlertStatus('firing', [ack, res])).toBe('resolved');
    expect(currentAlertStatus('resolved', [])).toBe('resolved');
    expect(currentAlertStatus('resolved', [ack])).toBe('resolved');
  });
});
