/**
 * A name the client chose (an event field, a query parameter), cut to 32 characters
 * wherever it is echoed or logged: it may carry a prompt's text. No imports, so the
 * importer's fold workers can use it without loading the HTTP layer.
 */
export function clientName(name: string, max = 32): string {
  return name.length > max ? `${name.slice(0, max)}…` : name;
}
