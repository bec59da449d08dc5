const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The hex part of a sha256 digest; throws on any other algorithm or a malformed digest. */
export function digestHex(digest: string, where: string): string {
  if (!DIGEST.test(digest)) throw new Error(`${where}: unsupported or malformed digest "${digest}" (sha256 only)`);
  return digest.slice(7);
}
