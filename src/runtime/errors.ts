/** An error the user caused (bad config or call); `where` is the JSON path or argument it concerns. */
export class ConfigError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'ConfigError';
  }
}

/** Any failure of a runtime operation, with the operation name for the one-line CLI message. */
export class RuntimeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}
