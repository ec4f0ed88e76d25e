/**
 * A pure function's answers for recent arguments, at most `max` of them: a hot path (every request's
 * address, every token's header) computes each distinct argument once. When full the memo is emptied rather
 * than evicting one by one, so a flood of distinct arguments costs recomputation, never unbounded memory.
 */
export function boundedMemo<K, V>(max: number, compute: (key: K) => V): (key: K) => V {
  const memo = new Map<K, V>();
  return (key) => {
    if (memo.has(key)) return memo.get(key) as V;
    const value = compute(key);
    if (memo.size >= max) memo.clear();
    memo.set(key, value);
    return value;
  };
}
