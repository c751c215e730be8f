/**
 * On SIGTERM (orchestrators) or SIGINT (Ctrl-C): run `close` once, then exit; a second signal, or
 * close taking over 30 s, exits at once.
 */
export function onShutdown(
  log: { info(o: object, m: string): void; error(o: object, m: string): void },
  close: () => Promise<void>,
) {
  let closing = false
  const handler = (signal: string) => {
    if (closing) process.exit(1)
    closing = true
    log.info({ signal }, 'shutting down')
    setTimeout(() => process.exit(1), 30_000).unref()
    close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => handler('SIGTERM'))
  process.on('SIGINT', () => handler('SIGINT'))
}
