interface Node<K, V> {
  key: K;
  value: V;
  prev: Node<K, V> | undefined;
  next: Node<K, V> | undefined;
}

/**
 * A bounded least-recently-used map: a Map for lookup plus a doubly linked list for recency. A hit relinks
 * one node (a few pointer writes; re-inserting into the Map instead would hash the key twice more and leave
 * holes to compact), an insert beyond capacity drops the oldest. O(1) everywhere, no dependencies.
 */
export class LruCache<K, V> {
  readonly #map = new Map<K, Node<K, V>>();
  readonly #max: number;
  /** least recently used */
  #head: Node<K, V> | undefined;
  /** most recently used */
  #tail: Node<K, V> | undefined;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('LruCache size must be a positive integer');
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The next insert of a new key evicts the least recently used one. */
  get full(): boolean {
    return this.#map.size >= this.#max;
  }

  get(key: K): V | undefined {
    const node = this.#map.get(key);
    if (node === undefined) return undefined;
    if (node !== this.#tail) {
      this.#unlink(node);
      this.#append(node);
    }
    return node.value;
  }

  set(key: K, value: V): void {
    const existing = this.#map.get(key);
    if (existing !== undefined) {
      existing.value = value;
      if (existing !== this.#tail) {
        this.#unlink(existing);
        this.#append(existing);
      }
      return;
    }
    let node = this.#head;
    if (this.#map.size >= this.#max && node !== undefined) {
      // Full: the least recently used node is dropped and reused for the new key, so inserts allocate nothing.
      this.#map.delete(node.key);
      this.#unlink(node);
      node.key = key;
      node.value = value;
    } else {
      node = { key, value, prev: undefined, next: undefined };
    }
    this.#map.set(key, node);
    this.#append(node);
  }

  delete(key: K): void {
    const node = this.#map.get(key);
    if (node === undefined) return;
    this.#map.delete(key);
    this.#unlink(node);
  }

  clear(): void {
    this.#map.clear();
    this.#head = undefined;
    this.#tail = undefined;
  }

  #unlink(node: Node<K, V>): void {
    if (node.prev === undefined) this.#head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
  }

  #append(node: Node<K, V>): void {
    node.prev = this.#tail;
    if (this.#tail === undefined) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
  }
}
