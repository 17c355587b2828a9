import { describe, expect, it } from 'vitest';
import { timelineLink } from './timeline-link.js';

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
