/**
 * Inside a host product's frame (docs/EMBEDDING.md): the page tells its parent how tall it is, so
 * that the host can size the frame to it and no scrollbar sits inside its own page. Only a parent
 * whose origin the operator allowed (UI_FRAME_ANCESTORS, which the server puts in a meta tag) is
 * told, and the message is addressed to that origin alone: the browser drops it for any other.
 */

/** The message the host page listens for. */
const HEIGHT_MESSAGE = 'account-contacts:height'

/** The origin of the page that frames this one, when the browser says it and the operator allows it. */
function allowedParent(): string | null {
  if (window.parent === window) return null
  const allowed = (document.querySelector('meta[name="ac-frame-ancestors"]')?.getAttribute('content') ?? '')
    .split(' ')
    .filter(Boolean)
  // Chromium and Safari name the ancestors; elsewhere the referrer is the parent's address (the
  // page itself sends none, but a frame's first request carries its parent's)
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins
  let parent = ancestors && ancestors.length > 0 ? ancestors[0]! : null
  if (parent === null && document.referrer) parent = new URL(document.referrer).origin
  return parent !== null && allowed.includes(parent) ? parent : null
}

/** Posts the page's height to an allowed parent whenever it changes. */
export function reportHeightToParent(): void {
  const parent = allowedParent()
  if (parent === null) return
  let last = -1
  const post = () => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height)
    if (height === last) return
    last = height
    window.parent.postMessage({ type: HEIGHT_MESSAGE, height }, parent)
  }
  new ResizeObserver(post).observe(document.documentElement)
  post()
}
