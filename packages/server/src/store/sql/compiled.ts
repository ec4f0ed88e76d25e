import type { CompiledQuery } from 'kysely';

const MARK = '\u0000tessera:';

/**
 * The SQL texts compiledOnce produced, each with a statement name for the drivers that prepare by name
 * (PostgreSQL: parsed and planned once per connection, dialects/pg-prepared.ts). A name is never reused for
 * another text; the map is bounded by the call sites of compiledOnce, and capped anyway.
 */
const NAMES = new Map<string, string>();
const MAX_NAMES = 256;

/** The statement name of a text compiledOnce built, or undefined: run it unprepared. */
export function preparedName(text: string): string | undefined {
  return NAMES.get(text);
}

// A cached plan's result columns are fixed when it is prepared: with `*`, a migration that adds a column
// would fail the statement ("cached plan must not change result type") on every connection that holds it.
const STAR = /\.\*|\bselect\s+\*/i;

function register(text: string): void {
  if (STAR.test(text)) throw new Error('compiledOnce: name the selected columns (no *): the statement is prepared once');
  if (!NAMES.has(text) && NAMES.size < MAX_NAMES) NAMES.set(text, `tessera_${NAMES.size + 1}`);
}

/**
 * A query built and compiled once, on first use: Kysely otherwise builds, transforms (camelCase ↔
 * snake_case) and compiles a query on every call, much of a fast statement's CPU. `build` gets a
 * placeholder for each named value and returns the compiled query; the compiled parameters are matched
 * back to the names once, and each call binds its values in that order. Values must be bound parameters:
 * a placeholder the builder turned into SQL text (or a parameter that is no placeholder) throws at the
 * first call. The text is registered for preparing by name (preparedName).
 */
export function compiledOnce<P extends object, R = unknown>(names: ReadonlyArray<keyof P & string>, build: (p: P) => CompiledQuery<R>): (values: P) => CompiledQuery<R> {
  let compiled: CompiledQuery<R> | undefined;
  let order: Array<keyof P & string> = [];
  return (values) => {
    if (compiled === undefined) {
      const marks = Object.fromEntries(names.map((n) => [n, `${MARK}${n}`])) as P;
      const c = build(marks);
      order = c.parameters.map((v) => {
        const name = typeof v === 'string' && v.startsWith(MARK) ? names.find((n) => `${MARK}${n}` === v) : undefined;
        if (name === undefined) throw new Error(`compiledOnce: parameter ${String(v)} is not a placeholder`);
        return name;
      });
      if (new Set(order).size !== names.length) throw new Error('compiledOnce: a placeholder is not a parameter of the query');
      register(c.sql);
      compiled = c;
    }
    return { ...compiled, parameters: order.map((n) => values[n]) };
  };
}

/**
 * A statement whose SQL starts with this comment is answered with each row as an array of its columns in
 * select order, on SQLite (better-sqlite3's raw mode, store/dialects/sqlite.ts): building a row object, one
 * name per column, was the larger part of a one-row read's CPU. The other drivers ignore the comment.
 */
export const ARRAY_ROWS = '/* tessera:array-rows */ ';
