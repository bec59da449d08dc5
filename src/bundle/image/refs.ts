// Image references as the CLI takes them: NAME[:TAG] or NAME@sha256:HEX.
export interface Ref {
  name: string;
  tag?: string;
  digest?: string;
}

/** Parses NAME[:TAG] (TAG defaults to "latest") or NAME@DIGEST. A ':' inside a registry host:port is not a tag. */
export function parseRef(text: string): Ref {
  if (!text) throw new Error('empty image reference');
  // Docker Hub's implicit prefixes, as `docker save` and skopeo write them.
  text = text.replace(/^docker\.io\/(library\/)?/, '');
  const at = text.indexOf('@');
  if (at >= 0) return { name: text.slice(0, at), digest: text.slice(at + 1) };
  const colon = text.lastIndexOf(':');
  if (colon > text.lastIndexOf('/')) return { name: text.slice(0, colon), tag: text.slice(colon + 1) || 'latest' };
  return { name: text, tag: 'latest' };
}

