/** Focuses the first of `ids` that is on the page and can take focus; answers whether one did. */
export function focusFirst(ids: readonly string[]): boolean {
  for (const id of ids) {
    const el = document.getElementById(id)
    if (!el || el.matches(':disabled')) continue
    el.focus()
    if (document.activeElement === el) return true
  }
  return false
}
