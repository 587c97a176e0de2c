/**
 * The one network operation federation needs: an HTTPS request whose answer is JSON. Server discovery and the key
 * fetcher take it as a parameter, so tests can run them against a local listener or a plain function;
 * `https-client.ts` has the real one.
 */
export interface FetchJsonOptions {
  readonly method?: 'GET' | 'POST';
  /** The `Host` header; defaults to the URL's host. Discovery sets it to the server name, not the address. */
  readonly hostHeader?: string;
  /** The name the server's certificate must be valid for (and the SNI, unless it is an IP); defaults to the URL's hostname. */
  readonly tlsServerName?: string;
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly timeoutMs: number;
}

export interface FetchJsonResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The parsed body, or undefined when it was not JSON. */
  readonly json: unknown;
}

/** Resolves with any HTTP status; rejects only when no response arrived (DNS, connection, TLS, timeout, size cap). */
export type FetchJson = (url: string, options: FetchJsonOptions) => Promise<FetchJsonResponse>;
