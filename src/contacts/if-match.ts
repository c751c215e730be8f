/** The strong ETag of a sheet version. */
export const sheetEtag = (version: number) => `"${version}"`

/**
 * RFC 9110 If-Match with strong comparison: `*` or a list of ETags, one of which must be the
 * current one. Answers whether the write may go on; an absent header means "any", except where
 * `required` (the whole-sheet PUT), whose caller answers 428.
 */
export function ifMatches(header: string | undefined, version: number): boolean | 'absent' {
  if (header === undefined || header.trim() === '') return 'absent'
  if (header.trim() === '*') return true
  return header
    .split(',')
    .map((t) => t.trim())
    .includes(sheetEtag(version))
}

/** The one sheet version an If-Match names (`"7"`), or null when it names none or several. */
export function namedVersion(header: string | undefined): number | null {
  const m = /^\s*"(\d{1,9})"\s*$/.exec(header ?? '')
  return m ? Number(m[1]) : null
}
