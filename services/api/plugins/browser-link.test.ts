import { describe, expect, it } from 'vitest';
import { prefersHtml } from './browser-link.js';

describe('prefersHtml (a browser, not an API client)', () => {
  it('is true for what browsers send when following a link', () => {
    // Chromium / Firefox navigation, and Safari's.
    expect(
      prefersHtml(
        'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
      ),
    ).toBe(true);
    expect(prefersHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(true);
    expect(prefersHtml('text/html')).toBe(true);
    expect(prefersHtml('TEXT/HTML; q=0.9, application/json; q=0.5')).toBe(true);
  });

  it('is false for API clients: JSON asked, JSON tied, wildcards only, nothing', () => {
    expect(prefersHtml(undefined)).toBe(false);
    expect(prefersHtml('')).toBe(false);
    expect(prefersHtml('*/*')).toBe(false); // curl, fetch
    expect(prefersHtml('application/json')).toBe(false);
    expect(prefersHtml('application/json, text/plain, */*')).toBe(false); // axios
    expect(prefersHtml('text/html, application/json')).toBe(false); // a tie is JSON's
    expect(prefersHtml('application/*, text/html')).toBe(false);
    expect(prefersHtml('text/html;q=0.5, application/json')).toBe(false);
    expect(prefersHtml('text/html;q=0')).toBe(false);
    expect(prefersHtml('text/*')).toBe(false);
    expect(prefersHtml('text/html;q=x, application/json;q=0.1')).toBe(false);
  });
});
