/** Receiver of diagnostic events with key/value context. The library never writes to the console. */
export interface Logger {
  /** Records a step that helps when tracing a closure resolution. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Records something the user should know about, though the resolution goes on. */
  warn(message: string, fields?: Record<string, unknown>): void;
}
