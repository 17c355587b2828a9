// Globs for rule and agent ids: `*` matches within one segment (segments are separated by
// `.`, `/` or `:`), `**` matches across segments, every other character is literal.

const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (re) return re;
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      src += '.*';
      i++;
    } else if (c === '*') {
      src += '[^./:]*';
    } else {
      src += c.replace(/[\\^$.|?+()[\]{}]/g, '\\$&');
    }
  }
  re = new RegExp(`^${src}$`);
  cache.set(glob, re);
  return re;
}

export const globMatch = (glob: string, value: string): boolean => globToRegExp(glob).test(value);
