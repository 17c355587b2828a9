/**
 * The class of a resource: scheme plus first component, e.g. `s3://bucket/key` → `s3://bucket`,
 * `github:org/repo` → `github:org`, `db:prod/users` → `db:prod`, `/etc/passwd` → `/etc`.
 * First use of a class (not of every object) is what is unusual for an identity.
 */
export function resourceClass(resource: string): string {
  return resource.slice(0, resourceClassEnd(resource));
}

/** Where the class of `resource` ends: the class is always this prefix of it (see resourceClass). */
export function resourceClassEnd(resource: string): number {
  const scheme = resource.indexOf('://');
  if (scheme > 0) return slashOrEnd(resource, scheme + 3);
  const colon = resource.indexOf(':');
  if (colon > 0) return slashOrEnd(resource, colon + 1);
  if (resource.startsWith('/')) return slashOrEnd(resource, 1);
  const slash = resource.indexOf('/');
  return slash > 0 ? slash : resource.length;
}

function slashOrEnd(resource: string, from: number): number {
  const slash = resource.indexOf('/', from);
  return slash >= 0 ? slash : resource.length;
}

/**
 * The class of `resource`, as the `last` string itself when it is the same class: a class string
 * seen before keeps its hash, so the Set lookups that follow do not hash a new one.
 */
export function resourceClassLike(resource: string, last: string | undefined): string {
  const end = resourceClassEnd(resource);
  return last !== undefined && end === last.length && resource.startsWith(last)
    ? last
    : resource.slice(0, end);
}
