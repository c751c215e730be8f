/** A row per (account, address) with a soft bounce: what lockAddresses (bounces.repository.ts) updates to make its reports take turns. */
export interface SoftBounceAddressesTable {
  account_id: string
  /** Lower case. */
  email: string
  reports: number
}
