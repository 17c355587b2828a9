import { describe, expect, it } from 'vitest';
import { decodeAlert, decodeStatus } from './consume.js';
import { makeAlert, makeStatus } from './testing.js';

// The two topics' decoders: what the loop routes and pages, and what is poison.

describe('decoders', () => {
  it('decodes an alert, and refuses a status message on the alerts topic', () => {
    const alert = makeAlert();
    expect(decodeAlert(JSON.parse(JSON.stringify(alert)))).toEqual({ success: true, data: { alert } });
    const status = { ...makeStatus(alert), alert };
    expect(decodeAlert(status)).toMatchObject({ success: false });
  });

  it('decodes a status message into its alert and the change, and names what is wrong otherwise', () => {
    const alert = makeAlert();
    const change = makeStatus(alert, 'alert.acknowledged');
    expect(decodeStatus(JSON.parse(JSON.stringify({ ...change, alert })))).toEqual({
      success: true,
      data: { alert, change },
    });
    expect(decodeStatus(alert)).toMatchObject({
      success: false,
      error: expect.stringContaining('status_id'),
    });
    expect(decodeStatus({ ...change, alert, reason: '' })).toMatchObject({
      success: false,
      error: expect.stringContaining('reason'),
    });
  });
});
