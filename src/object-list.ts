// Empty arrays of the elements kind an array of objects has. V8 keeps the elements kind in an
// array's hidden class: an empty literal (or `map` of one, or a `slice` of one) has another kind
// than a list of objects, even an empty one made by `filter`. Code optimized having met lists of
// one kind is thrown away and compiled again when the other arrives (a deopt, "wrong map").

/** An empty array that holds objects (pairs, records) in the same hidden class as one that already does. */
export function objectList<T>(): T[] {
  const list: T[] = [undefined as T];
  list.pop();
  return list;
}
