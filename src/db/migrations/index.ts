import type { Migration } from 'kysely/migration'
import * as core from './2026-11-27T04-00_core.ts'
import * as delivery from './2026-11-27T05-00_delivery.ts'
import * as retention from './2026-12-01T23-00_retention.ts'
import * as broadcasts from './2026-12-02T04-00_broadcasts.ts'
import * as verificationThrottle from './2026-12-02T04-30_verification-throttle.ts'
import * as bounces from './2026-12-03T00-00_bounces.ts'
import * as correctionRequests from './2026-12-03T01-00_correction-requests.ts'
import * as accountTree from './2026-12-03T02-00_account-tree.ts'
import * as addressLocks from './2026-12-03T03-00_address-locks.ts'
import * as slotRules from './2026-12-03T04-00_slot-rules.ts'
import * as pruneCorrectionsAndSoftBounces from './2026-12-03T05-00_prune-corrections-and-soft-bounces.ts'

/**
 * Every migration, in order. A static list rather than a folder scan, so that the set is the same
 * under tsx, a bundler or a compiled build. Add new files at the end; never edit a released one.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-27T04-00_core': core,
  '2026-11-27T05-00_delivery': delivery,
  '2026-12-01T23-00_retention': retention,
  '2026-12-02T04-00_broadcasts': broadcasts,
  '2026-12-02T04-30_verification-throttle': verificationThrottle,
  '2026-12-03T00-00_bounces': bounces,
  '2026-12-03T01-00_correction-requests': correctionRequests,
  '2026-12-03T02-00_account-tree': accountTree,
  '2026-12-03T03-00_address-locks': addressLocks,
  '2026-12-03T04-00_slot-rules': slotRules,
  '2026-12-03T05-00_prune-corrections-and-soft-bounces': pruneCorrectionsAndSoftBounces,
}
