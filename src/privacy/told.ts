/**
 * What an unexpected error may say where people read it (a log, the CLI's stderr): its text with runs
 * of numbers (a vector's components), byte dumps and long encoded runs (a photo, a sealed template)
 * cut out, bounded. Veil's own errors (VeilError) are written here and never quote face data; a
 * library's message may quote the data it failed on (an ONNX Runtime tensor, a decoder's bytes), and
 * face data goes in no log and no error. The one place every such path passes through.
 */
export function scrubbed(text: string): string {
  return (
    text
      .replace(/<Buffer[^>]*>/g, '[bytes]')
      // Numbers apart by anything JSON or a list puts between them: a typed array through JSON.stringify
      // is {"0":0.1,"1":0.2,...}, and base64url (Buffer's, JWTs') has - and _ where base64 has + and /.
      .replace(/-?\d+(\.\d+)?(e[-+]?\d+)?([\s,;:'"()[\]{}]+-?\d+(\.\d+)?(e[-+]?\d+)?){3,}/gi, '[numbers]')
      .replace(/[A-Za-z0-9+/_-]{100,}={0,2}|[0-9a-f]{64,}/gi, '[data]')
      .slice(0, 4000)
  );
}

/** An unexpected error as it may be told: name and message, and its stack, each scrubbed. */
export function told(e: unknown): { error: string; stack: string } {
  // A thrown non-error has no stack of its own (one made here would point here).
  const err = e instanceof Error ? e : { name: typeof e, message: String(e), stack: '' };
  return { error: scrubbed(`${err.name}: ${err.message}`), stack: scrubbed(err.stack ?? '') };
}
