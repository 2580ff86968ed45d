/**
 * The headers of an image answer, built on the first answer to a resolved request and reused by
 * the next answers of the same request with the same entry (image-handler.ts), and what tells
 * that an entry answers with them. Kept on the request's Resolved (resolve-memo.ts).
 */
import type { CachedImage } from '../cache/index.js';

/**
 * What of an entry an answer's headers were built from. Not the entry itself: with L1 off its
 * bytes are the L2 read's buffer, which a kept answer would hold for as long as the request
 * stays in the resolve memo's hot tier (up to 4,096 of them, each as big as its result).
 */
export type AnswerFacts = Omit<CachedImage, 'data' | 'createdAt' | 'bornAt' | 'sourceTag' | 'freshness'> & { readonly size: number };

export function factsOf(image: CachedImage): AnswerFacts {
  const { data, createdAt: _createdAt, bornAt: _bornAt, sourceTag: _sourceTag, freshness: _freshness, ...facts } = image;
  return { ...facts, size: data.length };
}

/** One answer's headers, reused by the next answers of the same request with the same entry (kept on its Resolved). */
export interface PreparedAnswer {
  facts: AnswerFacts;
  outcome: string;
  /** The route's headers they were built with (the id excepted, which is patched in). */
  head: readonly string[];
  /** Without the body's fields (a 304). */
  headers: string[];
  /** With Content-Type, Content-Length and Content-Disposition (a 200). */
  full: string[];
  /** Its Content-Disposition, reused by the next answer of the same format. */
  disposition: string;
  /** The validators sent, which the client's conditional headers are checked against. */
  etag: string | undefined;
  lastModified: string | undefined;
}

/** Whether an entry answers with the headers built from `a` (an L2 hit reads a new object each time). */
export function sameAnswer(a: AnswerFacts, b: CachedImage): boolean {
  return (
    a.etag === b.etag &&
    a.size === b.data.length &&
    a.contentType === b.contentType &&
    a.format === b.format &&
    a.width === b.width &&
    a.height === b.height &&
    a.fallbackStatus === b.fallbackStatus &&
    a.originWidth === b.originWidth &&
    a.originHeight === b.originHeight &&
    a.originSize === b.originSize &&
    a.originEtag === b.originEtag &&
    a.originLastModified === b.originLastModified &&
    a.originCacheControl === b.originCacheControl &&
    a.originExpires === b.originExpires &&
    sameTags(a.tags, b.tags)
  );
}

function sameTags(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  return a.every((t, i) => t === b[i]);
}
