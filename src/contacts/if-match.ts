import { AppError } from '../lib/errors.ts'

/** The strong ETag of a sheet version. */
export const sheetEtag = (version: number) => `"${version}"`

/**
 * RFC 9110 If-Match with strong comparison: `*` or a list of ETags, one of which must be the current
 * one. `required` makes an absent header a 428 (whole-sheet PUT); otherwise absent means "any".
 */
export function checkIfMatch(header: string | undefined, version: number, required: boolean): void {
  if (header === undefined || header.trim() === '') {
    if (required) {
      throw new AppError('precondition-required', {
        detail:
          "Send the ETag of the sheet you read in an If-Match header, so that nobody else's change is overwritten.",
      })
    }
    return
  }
  if (header.trim() === '*') return
  const current = sheetEtag(version)
  const tags = header.split(',').map((t) => t.trim())
  if (!tags.includes(current)) {
    throw new AppError('version-mismatch', {
      detail: `The sheet is now at version ${current}; read it again and reapply your change.`,
      headers: { etag: current },
    })
  }
}
