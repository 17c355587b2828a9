/**
 * The class of a resource: scheme plus first component, e.g. `s3://bucket/key` → `s3://bucket`,
 * `github:org/repo` → `github:org`, `db:prod/users` → `db:prod`, `/etc/passwd` → `/etc`.
 * First use of a class (not of every object) is what is unusual for an identity.
 */
export function resourceClass(resource: string): string {
  const scheme = resource.indexOf('://');
  if (scheme > 0) {
    const rest = resource.slice(scheme + 3);
    const slash = rest.indexOf('/');
    return resource.slice(0, scheme + 3) + (slash >= 0 ? rest.slice(0, slash) : rest);
  }
  const colon = resource.indexOf(':');
  if (colon > 0) {
    const rest = resource.slice(colon + 1);
    const slash = rest.indexOf('/');
    return resource.slice(0, colon + 1) + (slash >= 0 ? rest.slice(0, slash) : rest);
  }
  if (resource.startsWith('/')) {
    const slash = resource.indexOf('/', 1);
    return slash > 0 ? resource.slice(0, slash) : resource;
  }
  const slash = resource.indexOf('/');
  return slash > 0 ? resource.slice(0, slash) : resource;
}
