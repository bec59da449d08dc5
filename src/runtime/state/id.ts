import { ConfigError } from '../errors';

const ID = /^[A-Za-z0-9_+.-]+$/;

/** Container ids name directories: only runc's character set, and no "." or "..". */
export function validateId(id: string): void {
  if (!id) throw new ConfigError('', 'container id cannot be empty');
  if (!ID.test(id) || id === '.' || id === '..' || id.length > 1024)
    throw new ConfigError('', `invalid container id ${JSON.stringify(id)}: use only [A-Za-z0-9_+.-]`);
}
