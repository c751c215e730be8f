import type { SlotName } from './contact-slots.ts'

/**
 * How a slot of a child account composes with its parent's (docs/PRODUCT.md, "Parent and child
 * accounts"); the rule composes down the chain, as each ancestor's effective holders are its own
 * rule's result:
 * - `inherit` (the default): the account's own holders when it has any, else its parent's
 *   effective holders;
 * - `add`: its own holders and its parent's effective holders;
 * - `replace`: its own holders only, even none (then the routing's usual fallback);
 * - `none`: nobody, not even its own holders, and nothing from above (the routing's fallback still
 *   applies: a mail always reaches someone of the account).
 * effective-holders.repository.ts is where the rules are applied; this is what they are called.
 */
export const SLOT_RULES = ['inherit', 'add', 'replace', 'none'] as const
export type SlotRule = (typeof SLOT_RULES)[number]

export type SlotRules = Record<SlotName, SlotRule>

/** As stored (accounts.slot_rules): only the slots whose rule is not `inherit`. */
export type StoredSlotRules = Partial<Record<SlotName, Exclude<SlotRule, 'inherit'>>>
