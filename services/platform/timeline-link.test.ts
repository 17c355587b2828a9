import { describe, expect, it } from 'vitest';
import { consoleTaskLink, timelineLink } from './timeline-link.js';

describe('timelineLink', () => {
  it('is <base>/v1/tasks/<task>?tenant=<tenant>, both URL-encoded, one slash after the base', () => {
    expect(timelineLink('https://trail.example/', 'acme', 'task-1')).toBe(
      'https://trail.example/v1/tasks/task-1?tenant=acme',
    );
    expect(timelineLink('https://trail.example/at', 'acme_eu', 'run/42:a+b@c')).toBe(
      'https://trail.example/at/v1/tasks/run%2F42%3Aa%2Bb%40c?tenant=acme_eu',
    );
  });
});

describe('consoleTaskLink', () => {
  it("is <base>/console/#/tasks/<task>?tenant=<tenant>: the console's hash route, both URL-encoded", () => {
    expect(consoleTaskLink('https://trail.example/', 'acme', 'task-1')).toBe(
      'https://trail.example/console/#/tasks/task-1?tenant=acme',
    );
    expect(consoleTaskLink('https://trail.example/at', 'acme_eu', 'run/42:a+b@c#x?y')).toBe(
      'https://trail.example/at/console/#/tasks/run%2F42%3Aa%2Bb%40c%23x%3Fy?tenant=acme_eu',
    );
  });

  it('with an empty base, a path of this origin (what the API redirects a browser to)', () => {
    expect(consoleTaskLink('', 'acme', 'a b')).toBe('/console/#/tasks/a%20b?tenant=acme');
    expect(consoleTaskLink('', undefined, 'a b')).toBe('/console/#/tasks/a%20b');
  });
});
