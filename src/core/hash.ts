// A stable, platform-independent hash for tie-breaking. Every node must order equal-priority jobs the same way, so
// this cannot depend on insertion order, locale or the Node version; FNV-1a over UTF-16 code units is simple enough
// to be reimplemented by any other tool that wants to predict tend's order.

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a of a string's UTF-16 code units, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}
