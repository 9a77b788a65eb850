/** Receives diagnostic events with key/value context; the library never writes to the console. */
export interface Logger {
  /** Records a step that helps when tracing a build. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Records something the user should know about, though the build goes on. */
  warn(message: string, fields?: Record<string, unknown>): void;
}
