/** The embedded Temporal server could not be started or joined (exit 69). A file of its own, so
 * that the CLI can map it to its exit code without loading the Temporal client. */
export class EmbeddedServerError extends Error {
  override name = 'EmbeddedServerError';
}
