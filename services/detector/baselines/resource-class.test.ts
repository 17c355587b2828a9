import { describe, expect, it } from 'vitest';
import { resourceClass, resourceClassLike } from './resource-class.js';

describe('resourceClass', () => {
  it.each([
    ['s3://bucket/key', 's3://bucket'],
    ['s3://bucket', 's3://bucket'],
    ['github:org/repo', 'github:org'],
    ['db:prod/users', 'db:prod'],
    ['/etc/passwd', '/etc'],
    ['/etc', '/etc'],
    ['plain', 'plain'],
    ['a/b', 'a'],
    ['://x/y', ':'],
    ['a:b://c/d', 'a:b://c'],
    ['http://h:80/p', 'http://h:80'],
    ['/', '/'],
  ])('%s → %s', (resource, cls) => {
    expect(resourceClass(resource)).toBe(cls);
  });
});

describe('resourceClassLike', () => {
  it('gives the previous class string back when the class is the same', () => {
    const last = resourceClass('github:acme/repo-1/f1');
    expect(resourceClassLike('github:acme/repo-2/f9', last)).toBe(last);
  });

  it('derives the class afresh when it differs, even when the previous one is a prefix', () => {
    expect(resourceClassLike('github:acme2/x', 'github:acme')).toBe('github:acme2');
    expect(resourceClassLike('db:prod/x://y', 'db:prod')).toBe('db:prod/x://y');
    expect(resourceClassLike('/work/a', undefined)).toBe('/work');
  });
});
