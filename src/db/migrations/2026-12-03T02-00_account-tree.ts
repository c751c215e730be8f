import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time. Parent and child accounts (issue 16): accounts.parent_account_id, and the
 * database's own refusal of a cycle or of a tree deeper than 5 levels (the root is level 1),
 * whatever the isolation level and however many writers move accounts at once:
 *
 * - every change of a parent first updates the one row of account_tree_lock. Writers therefore
 *   take turns; at READ COMMITTED the next writer's checks, each a statement of its own, see what
 *   the one before committed; at REPEATABLE READ and SERIALIZABLE a writer whose snapshot is older
 *   than the last move fails on that row (40001, which the service retries) instead of checking a
 *   tree that is no longer there;
 * - a parent that still has children cannot be deleted (the foreign key restricts it).
 *
 * SQLSTATE ACT01: the move would make a cycle; ACT02: the tree would be deeper than 5 levels.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table accounts add column parent_account_id text references accounts (id) on delete restrict`.execute(
    db,
  )
  await sql`create index accounts_parent on accounts (parent_account_id) where parent_account_id is not null`.execute(db)
  await sql`create table account_tree_lock (id boolean primary key default true check (id), moves bigint not null default 0)`.execute(
    db,
  )
  await sql`insert into account_tree_lock default values`.execute(db)
  await sql`
    create function accounts_check_tree() returns trigger language plpgsql as $$
    declare
      above int;
      below int;
      loops boolean;
    begin
      if new.parent_account_id is null then return new; end if;
      if tg_op = 'UPDATE' and new.parent_account_id is not distinct from old.parent_account_id then return new; end if;
      update account_tree_lock set moves = moves + 1;
      -- the new parent's chain up to its root: how many levels, and whether it passes through the account
      with recursive up (id, parent, n) as (
        select a.id, a.parent_account_id, 1 from accounts a where a.id = new.parent_account_id
        union all
        select a.id, a.parent_account_id, up.n + 1 from accounts a join up on a.id = up.parent where up.n <= 6
      )
      select max(n), coalesce(bool_or(id = new.id), false) into above, loops from up;
      if loops then
        raise exception using errcode = 'ACT01', message = 'the new parent is the account itself or one of its descendants';
      end if;
      -- the levels the account brings with it: itself and its descendants
      with recursive down (id, n) as (
        select new.id, 1
        union all
        select a.id, down.n + 1 from accounts a join down on a.parent_account_id = down.id where down.n <= 6
      )
      select max(n) into below from down;
      if coalesce(above, 0) + below > 5 then
        raise exception using errcode = 'ACT02', message = format('the tree would be %s levels deep', coalesce(above, 0) + below);
      end if;
      return new;
    end $$`.execute(db)
  await sql`
    create trigger accounts_check_tree before insert or update of parent_account_id on accounts
      for each row execute function accounts_check_tree()`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger accounts_check_tree on accounts`.execute(db)
  await sql`drop function accounts_check_tree()`.execute(db)
  await sql`drop table account_tree_lock`.execute(db)
  await sql`alter table accounts drop column parent_account_id`.execute(db)
}
