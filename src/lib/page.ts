/**
 * Keyset pagination: the repository is asked for `limit + 1` rows; the extra one only tells that
 * there is a next page, whose cursor is the id of this page's last item.
 */
export function toPage<R, T extends { id: string }>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit).map(map)
  return { data, nextCursor: rows.length > limit ? data[data.length - 1]!.id : null }
}
