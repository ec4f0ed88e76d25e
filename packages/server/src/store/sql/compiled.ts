import type { CompiledQuery } from 'kysely';

const MARK = '\u0000tessera:';

/**
 * A query built and compiled once, on first use: Kysely otherwise builds, transforms (camelCase ↔
 * snake_case) and compiles a query on every call, much of a fast statement's CPU. `build` gets a
 * placeholder for each named value and returns the compiled query; the compiled parameters are matched
 * back to the names once, and each call binds its values in that order. Values must be bound parameters:
 * a placeholder the builder turned into SQL text (or a parameter that is no placeholder) throws at the
 * first call.
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
