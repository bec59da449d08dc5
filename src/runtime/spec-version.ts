/**
 * The OCI runtime-spec version tsrunc implements: what `features` reports as the newest it takes, and
 * the `ociVersion` of every state it gives out (`state`, `list`, hooks, a seccomp agent), which
 * runtime.md defines as the version the state complies with: the runtime's, not the config's (runc 1.1
 * reports its own: 1.0.2-dev for a config of 1.0.2).
 */
export const OCI_VERSION = '1.3.0';
