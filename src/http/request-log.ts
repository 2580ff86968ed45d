/**
 * What a handler tells the request log line about its request (server.ts writes the line):
 * kept apart so handlers and the router share it without importing each other.
 */
export interface RequestLog {
  source?: string;
  /** HIT-L1, HIT-L2, MISS, RAW, INFO: also the label of the duration histogram. */
  cache?: string;
  joined?: boolean;
}
